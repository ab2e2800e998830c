-- :BatonCancel stops a slow run: the block stops growing, its marker does not say `done`,
-- the progress ends `cancelled` and `baton/runs` reports nothing running.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('cancel', function()
  local slow = H.fake_agent(400, 100)
  require('baton').setup({ cmd = H.bin })
  local dir = H.workspace({ fast = 9, slow = slow })
  local buf, client = H.open(dir .. '/notes.brief.md')

  local progress_end
  vim.api.nvim_create_autocmd('LspProgress', {
    pattern = 'end',
    callback = function(ev)
      if tostring(ev.data.params.token):match('^baton%-run%-') then
        progress_end = ev.data.params.value.message
      end
    end,
  })

  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('BatonSend slow')
  H.wait(10000, function()
    return #H.words(H.output_block(buf, 'slow')) >= 3
  end, 'the first words of @slow in its output block')
  H.ok('streaming: ' .. table.concat(H.words(H.output_block(buf, 'slow')), ' '))

  vim.cmd('BatonCancel')
  H.wait(5000, function()
    return #H.notes_matching('cancelled 1 run') > 0
  end, ':BatonCancel to report `cancelled 1 run`')
  H.ok('baton.cancel returned the run')

  H.wait(5000, function()
    return progress_end ~= nil
  end, 'the run\'s work-done progress to end')
  H.check(progress_end == 'cancelled', 'the progress ended with ' .. tostring(progress_end) .. ', not cancelled')
  H.wait(3000, function()
    return #(require('baton').runs[client.id] or {}) == 0
  end, '`baton/runs` to report no running run')

  vim.wait(300)
  local block = H.output_block(buf, 'slow')
  local words = H.words(block)
  vim.wait(1000)
  local later = H.words(H.output_block(buf, 'slow'))
  H.check(#later == #words, ('the block still grows after the cancel: %d then %d words'):format(#words, #later))
  H.check(#words < 400, 'the whole answer arrived: the run was not cancelled')
  for i, word in ipairs(words) do
    H.check(word == 'word' .. i, ('word %d of the block is %q, expected word%d'):format(i, word, i))
  end
  H.check(block.status ~= 'done', 'the marker says status=done after a cancel: ' .. block.marker_text)
  H.check(block.close ~= nil, 'the cancelled block has no closing marker')
  H.ok(('stopped after %d words; marker: %s'):format(#words, block.marker_text))
end)
