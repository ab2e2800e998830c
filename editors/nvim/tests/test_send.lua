-- :BatonSend streams the agent's answer into an output block while the user keeps typing
-- above and below it; the final text is exact. Then :BatonJournal opens the run file.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

local WORDS = 40

H.run('send', function()
  local port = H.fake_agent(WORDS, 60)
  require('baton').setup({ cmd = H.bin })
  local dir = H.workspace({ fast = port })
  local buf, client = H.open(dir .. '/notes.brief.md')
  local original = H.lines(buf)

  local progress = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      local value = ev.data.params.value
      if type(value) == 'table' then
        table.insert(progress, { token = ev.data.params.token, kind = value.kind, title = value.title,
          message = value.message })
      end
    end,
  })
  local runs_seen = 0
  vim.api.nvim_create_autocmd('User', {
    pattern = 'BatonRuns',
    callback = function(ev)
      runs_seen = math.max(runs_seen, #ev.data.runs)
    end,
  })

  vim.api.nvim_win_set_cursor(0, { 5, 0 }) -- inside the brief, on its Objective
  vim.cmd('BatonSend')

  H.wait(10000, function()
    return H.output_block(buf, 'fast') ~= nil
  end, 'the `## Output @fast` block with its marker')
  H.ok('the output block appeared')

  -- Type above and below the block while the answer streams in.
  local above, below, typed_while_streaming = {}, {}, 0
  local done, statuses = false, {}
  for i = 1, 200 do
    statuses[require('baton').status()] = true
    local block = H.output_block(buf, 'fast')
    H.check(block ~= nil, 'the output block vanished while streaming')
    if block.status == 'done' then
      done = true
      break
    end
    if #above + #below < 12 then
      if i % 2 == 1 then
        local text = ('typed above %d'):format(#above + 1)
        table.insert(above, 1, text)
        vim.api.nvim_buf_set_lines(buf, 0, 0, false, { text })
      else
        local text = ('typed below %d'):format(#below + 1)
        table.insert(below, text)
        vim.api.nvim_buf_set_lines(buf, -1, -1, false, { text })
      end
      typed_while_streaming = typed_while_streaming + 1
    end
    vim.wait(120)
  end
  if not done then
    H.wait(15000, function()
      local block = H.output_block(buf, 'fast')
      return block and block.status == 'done'
    end, 'status=done in the marker')
  end
  H.check(#above >= 2 and #below >= 2,
    ('the stream ended before the test could type above and below (%d above, %d below)'):format(#above, #below))
  local streaming_status
  for text in pairs(statuses) do
    streaming_status = streaming_status or text:match('^@fast streaming · %d+ tokens$')
  end
  H.check(streaming_status, 'status() never said `@fast streaming · N tokens`: ' .. vim.inspect(vim.tbl_keys(statuses)))
  H.ok(('status=done; typed %d lines above and %d below while streaming'):format(#above, #below))

  -- The final text: the typed lines above, the brief untouched, the block, the typed lines below.
  local lines = H.lines(buf)
  for i, text in ipairs(above) do
    H.check(lines[i] == text, ('line %d should be %q (typed above), is %q'):format(i, text, tostring(lines[i])))
  end
  for i, text in ipairs(original) do
    local at = #above + i
    H.check(lines[at] == text, ('line %d should be %q (the brief), is %q'):format(at, text, tostring(lines[at])))
  end
  for i, text in ipairs(below) do
    local at = #lines - #below + i
    H.check(lines[at] == text, ('line %d should be %q (typed below), is %q'):format(at, text, tostring(lines[at])))
  end
  local block = H.output_block(buf, 'fast')
  H.check(block.close ~= nil, 'the block has no closing marker `<!-- /baton:output run=ID -->`')
  H.check(block.heading > #above + #original and block.close < #lines - #below + 1,
    'the block is not between the brief and the lines typed below')
  for at = #above + #original + 1, #lines - #below do
    local inside = at >= block.heading and at <= block.close
    H.check(inside or lines[at] == '', ('stray line %d outside the block: %q'):format(at, lines[at]))
  end
  local expected = {}
  for i = 1, WORDS do
    expected[i] = 'word' .. i
  end
  local got = table.concat(H.words(block), ' ')
  H.check(got == table.concat(expected, ' '), ('the block holds %q, expected word1 … word%d'):format(got, WORDS))
  H.check(block.marker_text:match('agent=fast') and block.marker_text:match('model=fake') and block.run,
    'the marker lacks run/agent/model: ' .. block.marker_text)
  H.ok('final text exact: ' .. block.marker_text)

  -- Progress (Neovim's own) and baton/runs.
  local ended
  H.wait(5000, function()
    for _, p in ipairs(progress) do
      if p.kind == 'end' and tostring(p.token):match('^baton%-run%-') then
        ended = p
      end
    end
    return ended ~= nil
  end, 'the work-done progress `baton-run-<id>` to end')
  H.check(ended.message == 'done', 'the progress ended with ' .. tostring(ended.message) .. ', not done')
  H.check(runs_seen >= 1, 'no `baton/runs` notification listed the run')
  H.wait(3000, function()
    return #(require('baton').runs[client.id] or {}) == 0
  end, '`baton/runs` to report no running run')
  H.ok('progress ended `done`; baton/runs went from the run to none')

  -- :BatonJournal opens the newest run file of this buffer.
  vim.cmd('BatonJournal')
  H.wait(5000, function()
    return vim.api.nvim_buf_get_name(0):match('/%.baton/runs/') ~= nil
  end, ':BatonJournal to open a file under .baton/runs/')
  local journal = table.concat(H.lines(0), '\n')
  H.check(journal:match('word' .. WORDS) ~= nil, 'the run file does not hold the answer')
  H.ok('the journal opened: ' .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ':t'))
end)
