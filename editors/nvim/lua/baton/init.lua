-- baton for Neovim 0.11+: attaches `baton lsp` to Markdown and adds the :Baton* commands.
--
-- Everything here is a thin layer over the server's LSP surface (docs/editor-protocol.md):
-- the commands are `workspace/executeCommand` requests, the progress is Neovim's own
-- work-done progress, and the streamed answer arrives as `workspace/applyEdit`, which
-- Neovim applies by itself.

local apply_edit = require('baton.apply_edit')

local M = {}

local defaults = {
  -- The server binary: a path (or a name on PATH), or a whole command list.
  cmd = 'baton',
  filetypes = { 'markdown' },
  root_markers = { 'baton.toml', '.git' },
  -- initializationOptions.trustedWorkspace: let this workspace's baton.toml define
  -- `command` agents and agents that send a key to a custom base_url.
  trusted_workspace = false,
  -- initializationOptions.logLevel: error | warn | info | debug | trace (server stderr).
  log_level = nil,
  -- Echo runs as they start and end (from `baton/runs` and the work-done progress).
  notify_runs = true,
  -- Milliseconds Neovim waits before sending a change; baton is fast, and a short delay
  -- keeps diagnostics in step with the text and the streamed output placed right.
  debounce_text_changes = 0,
}

M.options = vim.deepcopy(defaults)

-- Runs the server reports as queued or streaming, per client id (`baton/runs`).
M.runs = {}

local group = vim.api.nvim_create_augroup('baton', { clear = true })
local progress = {} -- token -> { client =, title =, message = } of the runs' work-done progress
local announced = {}

local function notify(message, level)
  vim.notify('baton: ' .. message, level or vim.log.levels.INFO, { title = 'baton' })
end

--- The baton client attached to `buf` (default: the current buffer), or nil.
function M.client(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  return vim.lsp.get_clients({ bufnr = buf, name = 'baton' })[1]
end

local function attached_client(buf)
  local client = M.client(buf)
  if not client then
    notify('the server is not attached to this buffer (is it Markdown, and is `baton` installed?)',
      vim.log.levels.ERROR)
  end
  return client
end

-- The arguments that name the brief under the cursor of the current window.
local function brief_arguments(client, buf)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  return { uri = vim.uri_from_bufnr(buf), position = params.position }
end

-- Runs `command` with one argument object; calls `on_result(result)` on success and shows
-- a JSON-RPC error with vim.notify at ERROR level.
local function execute(client, buf, command, argument, on_result)
  local params = { command = command, arguments = { argument } }
  return client:request('workspace/executeCommand', params, function(err, result)
    if err then
      notify(err.message or tostring(err), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result or {})
    end
  end, buf)
end

--- Executes a server command synchronously; returns the result or nil, err.
function M.execute_sync(command, argument, timeout_ms, buf)
  local client = M.client(buf)
  if not client then
    return nil, 'not attached'
  end
  local params = { command = command, arguments = { argument } }
  local response, err = client:request_sync('workspace/executeCommand', params, timeout_ms or 1000,
    buf or vim.api.nvim_get_current_buf())
  if not response then
    return nil, err
  end
  if response.err then
    return nil, response.err.message
  end
  return response.result
end

--- The configured agents, the brief's own agent (under the cursor) first.
function M.agents(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local client = M.client(buf)
  if not client then
    return {}
  end
  local result = M.execute_sync('baton.agents', brief_arguments(client, buf), 1000, buf)
  return result and result.agents or {}
end

local function complete_agent(arglead)
  local names = {}
  for _, agent in ipairs(M.agents()) do
    if type(agent.name) == 'string' and vim.startswith(agent.name, arglead) then
      table.insert(names, agent.name)
    end
  end
  return names
end

local function agent_argument(fargs)
  local agent = fargs[1]
  if agent then
    agent = agent:gsub('^@', '')
  end
  return agent
end

-- The range of lines line1..line2 (1-based, inclusive), in the client's encoding.
local function line_range(client, buf, line1, line2)
  local last = vim.api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ''
  return {
    start = { line = line1 - 1, character = 0 },
    ['end'] = { line = line2 - 1, character = vim.str_utfindex(last, client.offset_encoding, #last, false) },
  }
end

--- :BatonSend [agent]: sends the brief under the cursor (or the selected lines).
function M.send(agent, range)
  local buf = vim.api.nvim_get_current_buf()
  local client = attached_client(buf)
  if not client then
    return
  end
  local argument = brief_arguments(client, buf)
  argument.agent = agent
  if range then
    argument.selection = line_range(client, buf, range[1], range[2])
  end
  execute(client, buf, 'baton.send', argument, function(result)
    M.last_run = result
    if M.options.notify_runs and result.run and not announced[result.run] then
      announced[result.run] = true
      notify(('sending to @%s (run %s)'):format(result.agent or agent or '?', result.run))
    end
  end)
end

--- :BatonRun: runs the pipeline of the brief under the cursor (it and every brief it needs,
--- those not up to date), or of every brief of the buffer when the cursor is in none.
function M.run_pipeline()
  local buf = vim.api.nvim_get_current_buf()
  local client = attached_client(buf)
  if not client then
    return
  end
  execute(client, buf, 'baton.runPipeline', brief_arguments(client, buf), function(result)
    if result.briefs then
      notify(('pipeline: %d briefs, %d to run'):format(result.briefs, result.toRun or 0))
    end
  end)
end

--- :BatonPreview [agent]: writes the exact payload and opens it.
function M.preview(agent)
  local buf = vim.api.nvim_get_current_buf()
  local client = attached_client(buf)
  if not client then
    return
  end
  local argument = brief_arguments(client, buf)
  argument.agent = agent
  execute(client, buf, 'baton.preview', argument, function(result)
    if not result.uri then
      return
    end
    -- The server asks Neovim to show the file (window/showDocument, sent beside this
    -- answer, in no set order); open it only if that has not happened a moment later.
    vim.defer_fn(function()
      local target = vim.uri_to_bufnr(result.uri)
      if #vim.fn.win_findbuf(target) == 0 then
        vim.cmd.split(vim.fn.fnameescape(vim.uri_to_fname(result.uri)))
      end
    end, 1000)
  end)
end

--- :BatonCancel: cancels the runs of the current buffer.
function M.cancel()
  local buf = vim.api.nvim_get_current_buf()
  local client = attached_client(buf)
  if not client then
    return
  end
  execute(client, buf, 'baton.cancel', { uri = vim.uri_from_bufnr(buf) }, function(result)
    local cancelled = result.cancelled or {}
    if #cancelled == 0 then
      notify('no run of this buffer to cancel')
    else
      notify(('cancelled %d run%s'):format(#cancelled, #cancelled == 1 and '' or 's'))
    end
  end)
end

local function to_path(path)
  if type(path) ~= 'string' then
    return nil
  end
  if path:match('^file://') then
    return vim.uri_to_fname(path)
  end
  return path
end

--- :BatonJournal: opens the newest run file of the buffer, or the journal folder.
function M.journal()
  local buf = vim.api.nvim_get_current_buf()
  local client = attached_client(buf)
  if not client then
    return
  end
  execute(client, buf, 'baton.journal', { uri = vim.uri_from_bufnr(buf) }, function(result)
    local path = to_path(result.latest) or to_path(result.dir)
    if not path then
      notify('the server named no journal', vim.log.levels.WARN)
      return
    end
    vim.cmd.edit(vim.fn.fnameescape(path))
  end)
end

--- A short text for the statusline: the runs of the current buffer, or ''.
function M.status()
  local client = M.client()
  local runs = client and M.runs[client.id] or {}
  local uri = vim.uri_from_bufnr(0)
  local parts = {}
  for _, run in ipairs(runs) do
    if run.uri == uri then
      local current = progress['baton-run-' .. tostring(run.run)]
      local state = current and current.message or run.state or ''
      table.insert(parts, ('@%s %s'):format(run.agent or '?', state))
    end
  end
  return table.concat(parts, ' · ')
end

-- `baton/runs`: the runs queued or streaming, after every change.
local function on_runs(_, params, ctx)
  local runs = params and params.runs or {}
  M.runs[ctx.client_id] = runs
  if M.options.notify_runs then
    for _, run in ipairs(runs) do
      if run.run and not announced[run.run] then
        announced[run.run] = true
        notify(('sending %s to @%s (run %s)'):format(run.brief or 'the brief', run.agent or '?', run.run))
      end
    end
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'BatonRuns', modeline = false, data = { runs = runs } })
  vim.cmd.redrawstatus()
end

-- Versioned edits, refused when stale (see lua/baton/apply_edit.lua): the server streams
-- answers into the buffer while you type.
M.capabilities = apply_edit.capabilities

-- Echoes the end of each run (`done`, `partial`, `failed: …`, `cancelled`); Neovim itself
-- keeps the progress for vim.lsp.status().
local function on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  local params = ev.data.params or {}
  local value = params.value
  if not client or client.name ~= 'baton' or type(value) ~= 'table' then
    return
  end
  local token = tostring(params.token)
  if value.kind == 'begin' then
    progress[token] = { client = client.id, title = value.title, message = value.message }
  elseif value.kind == 'report' then
    progress[token] = progress[token] or {}
    progress[token].message = value.message or progress[token].message
  elseif value.kind == 'end' then
    local title = progress[token] and progress[token].title or 'run'
    progress[token] = nil
    local message = value.message or 'done'
    if M.options.notify_runs and not message:match('^failed') then -- failures: showMessage
      local level = message == 'done' and vim.log.levels.INFO or vim.log.levels.WARN
      notify(('%s: %s'):format(title, message), level)
    end
  end
  vim.cmd.redrawstatus()
end

-- A server that exited (crashed, or stopped) runs nothing any more: forget what it reported,
-- so the statusline never shows a run no server is carrying. A restarted server is a new
-- client, which reports its own runs (none, at first).
local function on_exit(_, _, client_id)
  M.runs[client_id] = nil
  for token, entry in pairs(progress) do
    if entry.client == client_id then
      progress[token] = nil
    end
  end
  vim.schedule(function()
    vim.cmd.redrawstatus()
  end)
end

local function command_list(cmd)
  if type(cmd) == 'string' then
    return { cmd, 'lsp' }
  end
  return cmd
end

local function create_commands()
  vim.api.nvim_create_user_command('BatonSend', function(args)
    local range = args.range > 0 and { args.line1, args.line2 } or nil
    M.send(agent_argument(args.fargs), range)
  end, {
    nargs = '?',
    range = true,
    complete = complete_agent,
    desc = 'baton: send the brief under the cursor (or the selected lines) to an agent',
  })
  vim.api.nvim_create_user_command('BatonPreview', function(args)
    M.preview(agent_argument(args.fargs))
  end, { nargs = '?', complete = complete_agent, desc = 'baton: show the exact payload of the brief' })
  vim.api.nvim_create_user_command('BatonRun', function()
    M.run_pipeline()
  end, { nargs = 0, desc = 'baton: run the pipeline of the brief under the cursor' })
  vim.api.nvim_create_user_command('BatonCancel', function()
    M.cancel()
  end, { nargs = 0, desc = 'baton: cancel the runs of this buffer' })
  vim.api.nvim_create_user_command('BatonJournal', function()
    M.journal()
  end, { nargs = 0, desc = 'baton: open the newest run of this buffer, or the journal folder' })
end

--- Configures and enables the `baton` language server, and adds the :Baton* commands.
function M.setup(opts)
  if vim.fn.has('nvim-0.11') == 0 then
    notify('needs Neovim 0.11 or later', vim.log.levels.ERROR)
    return
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local o = M.options
  local init_options = { trustedWorkspace = o.trusted_workspace and true or false }
  if o.log_level then
    init_options.logLevel = o.log_level
  end
  vim.lsp.config('baton', {
    cmd = command_list(o.cmd),
    filetypes = o.filetypes,
    root_markers = o.root_markers,
    init_options = init_options,
    flags = { debounce_text_changes = o.debounce_text_changes },
    capabilities = M.capabilities,
    handlers = { ['baton/runs'] = on_runs, ['workspace/applyEdit'] = apply_edit.handler },
    on_exit = on_exit,
  })
  vim.lsp.enable('baton')
  vim.api.nvim_clear_autocmds({ group = group })
  vim.api.nvim_create_autocmd('LspProgress', { group = group, callback = on_progress })
  create_commands()
end

return M
