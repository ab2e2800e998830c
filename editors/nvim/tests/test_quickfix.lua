-- The quick fix of `missing-field`, applied the way a user does (vim.lsp.buf.code_action),
-- inserts the field's heading into the buffer and the diagnostic goes away.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('quickfix', function()
  require('baton').setup({ cmd = H.bin })
  local dir = H.workspace()
  local buf = H.open(dir .. '/missing.brief.md')
  local before = H.lines(buf)

  H.wait(10000, function()
    return #vim.diagnostic.get(buf, { lnum = 0 }) > 0
  end, 'the missing-field diagnostic')

  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local offered = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(offered, action.title)
      return action.title:match('Expected Output') ~= nil
    end,
  })
  H.wait(5000, function()
    return vim.tbl_contains(H.lines(buf), '## Expected Output')
  end, 'the `## Expected Output` heading in the buffer (actions offered: ' .. table.concat(offered, ' | ') .. ')')
  H.ok('the quick fix inserted `## Expected Output`')

  local after = H.lines(buf)
  local at = vim.fn.index(after, '## Expected Output') + 1
  H.check(at > #before - 1, 'the field was not inserted after the last field (line ' .. at .. ')')
  for i, line in ipairs(before) do
    H.check(after[i] == line, ('line %d changed: %q became %q'):format(i, line, tostring(after[i])))
  end
  H.ok('inserted at the end of the brief, nothing else changed')

  H.wait(5000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'missing-field' then
        return false
      end
    end
    return true
  end, 'the missing-field diagnostic to go away')
  H.ok('the diagnostic is gone')
end)
