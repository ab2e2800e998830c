-- The server dies mid-stream (killed, as a crash would): the plugin forgets its runs, so the
-- statusline shows none; a new server, started for the buffer, runs nothing and offers the
-- run's saved output back ("Insert saved output of run …"), which restores it.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

--- The process of `baton lsp` that this Neovim started.
local function server_pid()
  local nvim = vim.fn.getpid()
  for name in vim.fs.dir('/proc') do
    local pid = tonumber(name)
    local stat = pid and io.open('/proc/' .. name .. '/stat')
    if stat then
      local fields = stat:read('*a'):match('%) (.*)$') or ''
      stat:close()
      local parent = tonumber(vim.split(fields, ' ')[2])
      local cmdline = io.open('/proc/' .. name .. '/cmdline')
      local argv = cmdline and vim.split(cmdline:read('*a'), '\0') or {}
      if cmdline then
        cmdline:close()
      end
      if parent == nvim and argv[1] == H.bin and argv[2] == 'lsp' then
        return pid
      end
    end
  end
end

H.run('restart', function()
  local slow = H.fake_agent(400, 100)
  local baton = require('baton')
  baton.setup({ cmd = H.bin })
  local dir = H.workspace({ fast = 9, slow = slow })
  local buf, client = H.open(dir .. '/notes.brief.md')

  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('BatonSend slow')
  H.wait(10000, function()
    return #H.words(H.output_block(buf, 'slow')) >= 3 and baton.status() ~= ''
  end, 'the first words of @slow, and the run in the statusline')
  local run = H.output_block(buf, 'slow').run
  H.ok('streaming run ' .. run .. '; status: ' .. baton.status())

  local pid = server_pid()
  H.check(pid ~= nil, 'no baton server process found')
  vim.uv.kill(pid, 'sigkill')
  H.wait(5000, function()
    return client:is_stopped()
  end, 'the client to see its server die')
  H.wait(1000, function()
    return baton.runs[client.id] == nil and baton.status() == ''
  end, 'the dead server\'s run to be forgotten')
  H.ok('killed the server; no run is shown')

  -- A new server for the buffer, as reopening it would start.
  vim.api.nvim_exec_autocmds('FileType', { buffer = buf })
  local new
  H.wait(10000, function()
    new = baton.client(buf)
    return new ~= nil and new.id ~= client.id and new.initialized
  end, 'a new baton client for the buffer')
  local runs = baton.execute_sync('baton.runs', {}, 2000, buf)
  H.check(runs and #runs.runs == 0, 'the new server runs something: ' .. vim.inspect(runs))

  local offer
  H.wait(10000, function()
    local params = {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = { start = { line = 4, character = 0 }, ['end'] = { line = 4, character = 0 } },
      context = { diagnostics = {} },
    }
    local answer = new:request_sync('textDocument/codeAction', params, 1000, buf)
    for _, action in ipairs(answer and answer.result or {}) do
      if vim.startswith(action.title, 'Insert saved output of run ' .. run) then
        offer = action
      end
    end
    return offer ~= nil
  end, 'the offer of run ' .. run .. '\'s saved output')
  H.ok('offered: ' .. offer.title)
  new:exec_cmd(offer.command, { bufnr = buf })
  H.wait(5000, function()
    local block = H.output_block(buf, 'slow')
    return block and block.run == run and block.status == 'partial'
  end, 'the saved output, marked partial')
  H.check(baton.status() == '', 'the statusline shows a run: ' .. baton.status())
  H.ok('restored: ' .. H.output_block(buf, 'slow').marker_text)
end)
