-- Shared by the test_noplugin_*typing tests: an answer streams into a brief, sent the way a user
-- without the plugin sends it (the code action), while the test types a line at the top of the
-- buffer every `interval` ms. The final buffer must be exact: every typed line where it was
-- typed, the brief untouched, one output block with the whole answer, status=done; and Neovim
-- must never have printed "newer than edits" (it prints that when it drops a stale versioned
-- edit, which it then reports as applied).
local S = {}

local WORDS = 60

--- Every line Neovim `print`s (its "Buffer … newer than edits." among them).
S.printed = {}

--- Captures print() before any client starts.
function S.capture_prints()
  local original = print
  _G.print = function(...)
    local parts = {}
    for i = 1, select('#', ...) do
      parts[i] = tostring(select(i, ...))
    end
    table.insert(S.printed, table.concat(parts, ''))
    return original(...)
  end
end

--- The baton client attached to `buf`, without the plugin's Lua module.
local function client_of(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'baton' })[1]
end

--- Opens `path` and waits for the baton client, initialized.
function S.open(H, path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client
  H.wait(10000, function()
    client = client_of(buf)
    return client ~= nil and client.initialized
  end, 'the baton client to attach to ' .. path)
  return buf, client
end

--- Starts the loopback agent and writes the fixture workspace; returns its folder.
function S.workspace(H)
  local port = H.fake_agent(WORDS, 40)
  return H.workspace({ fast = port })
end

--- Sends the brief of `buf` with the code action, types at the top every `interval` ms until the
--- run is done, and checks the whole buffer. `label` names the scenario in the output.
function S.stream_while_typing(H, dir, interval, label)
  local path = ('%s/typing-%d.brief.md'):format(dir, interval)
  vim.fn.writefile(vim.fn.readfile(dir .. '/notes.brief.md'), path)
  local buf = S.open(H, path)
  local original = H.lines(buf)
  local printed_before = #S.printed

  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  local offered = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(offered, action.title)
      -- The agent is a loopback server, so the title names its host (DESIGN §7).
      return action.title:match('^Send "Summarize the release notes" to @fast · 127%.0%.0%.1:%d+$') ~= nil
    end,
  })

  -- Type from the moment the send is chosen (so the block is created while the user types
  -- too), in bursts of about a second with a pause after each, until the run is done.
  local typed = {}
  local started = vim.uv.now()
  local function done()
    local block = H.output_block(buf, 'fast')
    return block ~= nil and block.status == 'done'
  end
  while not done() do
    for _ = 1, math.ceil(1000 / interval) do
      local text = ('typed at the top %d'):format(#typed + 1)
      table.insert(typed, 1, text)
      vim.api.nvim_buf_set_lines(buf, 0, 0, false, { text })
      vim.wait(interval)
    end
    vim.wait(900, done, 20)
    H.check(vim.uv.now() - started < 30000, ('%s: no status=done after 30 s (actions offered: %s)')
      :format(label, table.concat(offered, ' | ')))
  end
  H.check(#typed >= 10, ('%s: the answer was done after only %d typed lines'):format(label, #typed))
  -- Whatever the server still had to write has landed by now.
  vim.wait(1000)

  local lines = H.lines(buf)
  local block = H.output_block(buf, 'fast')
  local expected = vim.list_extend(vim.list_extend({}, typed), original)
  local words = {}
  for i = 1, WORDS do
    words[i] = 'word' .. i
  end
  vim.list_extend(expected, { '', '## Output @fast', block.marker_text, table.concat(words, ' '),
    '<!-- /baton:output run=' .. block.run .. ' -->' })
  local headings = 0
  for _, line in ipairs(lines) do
    if line:match('^## Output @') then
      headings = headings + 1
    end
  end
  H.check(headings == 1, ('%s: %d output blocks in the buffer'):format(label, headings))
  for i = 1, math.max(#lines, #expected) do
    H.check(lines[i] == expected[i], ('%s: line %d is %q, expected %q (%d lines, expected %d)')
      :format(label, i, tostring(lines[i]), tostring(expected[i]), #lines, #expected))
  end
  H.check(block.marker_text:match('agent=fast') and block.marker_text:match('status=done'),
    label .. ': the marker is ' .. block.marker_text)
  for i = printed_before + 1, #S.printed do
    H.check(not S.printed[i]:match('newer than edits'), label .. ': Neovim printed ' .. S.printed[i])
  end
  H.ok(('%s: typed %d lines at the top every %d ms; the buffer is exact, one block, status=done')
    :format(label, #typed, interval))
end

return S
