-- Shared by the end-to-end tests: each test file runs in its own headless Neovim
-- (`nvim --headless -u NONE -i NONE -l tests/test_x.lua`, see scripts/e2e/nvim), loads the
-- plugin from editors/nvim through 'runtimepath', and exits non-zero with a reason on failure.

local H = {}

H.repo = assert(os.getenv('BATON_REPO'), 'BATON_REPO is not set (run scripts/e2e/nvim)')
H.bin = assert(os.getenv('BATON_BIN'), 'BATON_BIN is not set (run scripts/e2e/nvim)')
H.tmp = assert(os.getenv('E2E_TMP'), 'E2E_TMP is not set (run scripts/e2e/nvim)')
H.fixture = H.repo .. '/editors/nvim/tests/workspace'
H.name = '?'
H.processes = {}
H.notes = {} -- every vim.notify: { msg =, level = }

local function stop_everything()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  for _, process in ipairs(H.processes) do
    pcall(function()
      process:kill(15)
    end)
  end
  H.processes = {}
end

local function log_tail(lines)
  local path = vim.lsp.log.get_filename()
  local ok, content = pcall(vim.fn.readfile, path)
  if not ok or #content == 0 then
    return ''
  end
  local from = math.max(1, #content - lines + 1)
  return table.concat(vim.list_slice(content, from), '\n')
end

--- Ends the test with a failure: the reason, the buffer, Neovim's LSP log, exit status 1.
function H.fail(reason)
  io.stderr:write(('FAIL %s: %s\n'):format(H.name, reason))
  local ok, lines = pcall(vim.api.nvim_buf_get_lines, 0, 0, -1, false)
  if ok then
    io.stderr:write('--- current buffer ---\n' .. table.concat(lines, '\n') .. '\n')
  end
  if #H.notes > 0 then
    io.stderr:write('--- notifications ---\n')
    for _, note in ipairs(H.notes) do
      io.stderr:write(('[%s] %s\n'):format(note.level or '-', note.msg))
    end
  end
  local tail = log_tail(25)
  if tail ~= '' then
    io.stderr:write('--- lsp.log (tail) ---\n' .. tail .. '\n')
  end
  stop_everything()
  vim.cmd('cquit 1')
end

function H.check(condition, reason)
  if not condition then
    H.fail(reason)
  end
  return condition
end

--- Prints one passed step.
function H.ok(step)
  io.stdout:write(('  ok %s: %s\n'):format(H.name, step))
end

--- Waits up to `ms` for `predicate`; fails the test with `what` on timeout. While it waits,
--- an ERROR notification (a JSON-RPC error of a command) fails the test at once.
function H.wait(ms, predicate, what)
  local errors = H.count_errors()
  local ok = vim.wait(ms, function()
    return predicate() or H.count_errors() > errors
  end, 20)
  if H.count_errors() > errors then
    H.fail(('while waiting for %s, an error was shown: %s'):format(what, H.notes[#H.notes].msg))
  end
  if not ok then
    H.fail(('timed out after %d ms waiting for %s'):format(ms, what))
  end
end

function H.count_errors()
  local n = 0
  for _, note in ipairs(H.notes) do
    if note.level == vim.log.levels.ERROR then
      n = n + 1
    end
  end
  return n
end

--- The notifications whose text matches `pattern`.
function H.notes_matching(pattern)
  local found = {}
  for _, note in ipairs(H.notes) do
    if note.msg:match(pattern) then
      table.insert(found, note)
    end
  end
  return found
end

--- Starts a loopback agent (editors/testing/fake_agent.py); returns its port.
function H.fake_agent(words, delay_ms)
  local port
  local script = H.repo .. '/editors/testing/fake_agent.py'
  local process = vim.system(
    { 'python3', script, '--words', tostring(words), '--delay-ms', tostring(delay_ms) },
    {
      stdout = function(_, data)
        if data and not port then
          port = tonumber(data:match('(%d+)'))
        end
      end,
    }
  )
  table.insert(H.processes, process)
  H.wait(5000, function()
    return port ~= nil
  end, 'the fake agent to print its port')
  return port
end

--- Copies the fixture workspace to a fresh temp dir, filling in the agents' ports.
function H.workspace(ports)
  local dir = H.tmp .. '/' .. H.name
  vim.fn.delete(dir, 'rf')
  vim.fn.mkdir(dir, 'p')
  for name, kind in vim.fs.dir(H.fixture) do
    if kind == 'file' then
      local lines = vim.fn.readfile(H.fixture .. '/' .. name)
      for i, line in ipairs(lines) do
        lines[i] = line:gsub('{{FAST_PORT}}', tostring(ports and ports.fast or 9))
          :gsub('{{SLOW_PORT}}', tostring(ports and ports.slow or 9))
      end
      vim.fn.writefile(lines, dir .. '/' .. name)
    end
  end
  return dir
end

--- Opens `path`, waits until the baton client is attached and initialized; returns buf, client.
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  H.check(vim.bo[buf].filetype == 'markdown', 'the brief is not detected as markdown')
  local client
  H.wait(10000, function()
    client = require('baton').client(buf)
    return client ~= nil and client.initialized
  end, 'the baton client to attach to ' .. path)
  return buf, client
end

function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false)
end

--- The output block of `agent` in `buf`: { heading =, marker =, close =, status =, body = {lines} },
--- line numbers 1-based; nil when there is none.
function H.output_block(buf, agent)
  local lines = H.lines(buf)
  local block
  for i, line in ipairs(lines) do
    if not block and line:match('^## Output @' .. vim.pesc(agent) .. '%s*$') then
      block = { heading = i }
    elseif block and not block.marker and line:match('^<!%-%- baton:output ') then
      block.marker = i
      block.marker_text = line
      block.status = line:match('status=([%w_-]+)')
      block.run = line:match('run=([%w_-]+)')
    elseif block and block.marker and line:match('^<!%-%- /baton:output') then
      block.close = i
      break
    end
  end
  if block and block.marker then
    block.body = vim.list_slice(lines, block.marker + 1, block.close and block.close - 1 or #lines)
  end
  return block
end

--- The words of a block's body, in order.
function H.words(block)
  local words = {}
  for _, line in ipairs(block and block.body or {}) do
    for word in line:gmatch('%S+') do
      table.insert(words, word)
    end
  end
  return words
end

--- Runs the test `name`: loads the plugin with the debug binary, captures notifications,
--- calls `body(H)`, and exits 0 on success or 1 with a reason.
function H.run(name, body)
  H.name = name
  vim.opt.runtimepath:prepend(H.repo .. '/editors/nvim')
  vim.o.swapfile = false
  vim.o.shortmess = vim.o.shortmess .. 'F'
  vim.cmd('filetype on')
  vim.notify = function(msg, level)
    table.insert(H.notes, { msg = tostring(msg), level = level })
    io.stdout:write(('  [notify %s] %s\n'):format(level or '-', msg))
  end
  local ok, err = xpcall(body, debug.traceback, H)
  if not ok then
    H.fail(err)
  end
  stop_everything()
  io.stdout:write(('PASS %s\n'):format(name))
  vim.cmd('qall!')
end

return H
