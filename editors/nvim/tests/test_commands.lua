-- :BatonPreview opens the payload file; agent names complete from `baton.agents`; a refused
-- :BatonSend shows the server's reason at ERROR level; :BatonCancel with nothing running.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('commands', function()
  local shown = {}
  local show_document = vim.lsp.handlers['window/showDocument']
  vim.lsp.handlers['window/showDocument'] = function(err, result, ctx, config)
    table.insert(shown, result and result.uri)
    return show_document(err, result, ctx, config)
  end

  require('baton').setup({ cmd = H.bin })
  local dir = H.workspace()
  local buf = H.open(dir .. '/notes.brief.md')
  vim.api.nvim_win_set_cursor(0, { 5, 0 })

  -- Completion of agent names, the brief's own agent first.
  local names = vim.fn.getcompletion('BatonSend ', 'cmdline')
  H.check(names[1] == 'fast' and vim.tbl_contains(names, 'slow'),
    'agent names do not complete as { fast, slow, ... }: ' .. vim.inspect(names))
  local s = vim.fn.getcompletion('BatonPreview s', 'cmdline')
  H.check(#s == 1 and s[1] == 'slow', ':BatonPreview s does not complete to slow: ' .. vim.inspect(s))
  H.ok('agent names complete: ' .. table.concat(names, ', '))

  -- :BatonPreview opens .baton/preview/<file>-<brief>.md with the exact payload.
  vim.cmd('BatonPreview')
  local preview
  H.wait(5000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
      if name:match('/%.baton/preview/') then
        preview = vim.api.nvim_win_get_buf(win)
        return true
      end
    end
    return false
  end, ':BatonPreview to show a file under .baton/preview/')
  local payload = table.concat(H.lines(preview), '\n')
  H.check(payload:match('You answer release questions in plain words%.') ~= nil,
    'the preview lacks the agent\'s role (system prompt):\n' .. payload)
  H.check(payload:match('Summarize the release notes in three bullets%.') ~= nil,
    'the preview lacks the brief\'s Objective:\n' .. payload)
  H.wait(1000, function()
    return #shown > 0
  end, 'window/showDocument from the server')
  H.check(#shown == 1 and vim.uri_to_fname(shown[1]) == vim.api.nvim_buf_get_name(preview),
    'the server did not ask to show the preview with window/showDocument: ' .. vim.inspect(shown))
  vim.wait(1200) -- past the plugin's fallback
  H.check(#vim.fn.win_findbuf(preview) == 1, 'the preview is shown in more than one window')
  H.ok('the payload opened: ' .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(preview), ':t'))

  -- A refusal is a JSON-RPC error, shown with vim.notify at ERROR level.
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  local errors = H.count_errors()
  vim.cmd('BatonSend nosuchagent')
  vim.wait(5000, function()
    return H.count_errors() > errors
  end, 20)
  local last = H.notes[#H.notes]
  H.check(H.count_errors() > errors and last.msg:match('nosuchagent') ~= nil,
    'sending to an unknown agent showed no ERROR naming it; last notification: ' .. vim.inspect(last))
  H.ok('refusal shown at ERROR: ' .. last.msg)

  -- :BatonCancel with nothing running.
  vim.cmd('BatonCancel')
  H.wait(5000, function()
    return #H.notes_matching('no run of this buffer to cancel') > 0
  end, ':BatonCancel to say there is nothing to cancel')
  H.ok(':BatonCancel with nothing running says so')
end)
