-- A brief with a missing field gets the `missing-field` diagnostic on its heading.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('diagnostics', function()
  require('baton').setup({ cmd = H.bin, trusted_workspace = true, log_level = 'info' })
  local dir = H.workspace()
  local buf, client = H.open(dir .. '/missing.brief.md')

  H.check(client.config.cmd[1] == H.bin and client.config.cmd[2] == 'lsp',
    'the client does not run `<cmd> lsp`: ' .. vim.inspect(client.config.cmd))
  local init = client.config.init_options or {}
  H.check(init.trustedWorkspace == true and init.logLevel == 'info',
    'initializationOptions are not { trustedWorkspace = true, logLevel = "info" }: ' .. vim.inspect(init))
  H.check(client.root_dir == dir or client.root_dir == vim.uv.fs_realpath(dir),
    'the root is not the folder of baton.toml: ' .. tostring(client.root_dir))
  H.ok('attached with the options as initializationOptions')

  local missing
  H.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'missing-field' then
        missing = d
      end
    end
    return missing ~= nil
  end, 'the missing-field diagnostic')
  H.check(missing.lnum == 0, 'missing-field is not on the heading (line 1) but on line ' .. (missing.lnum + 1))
  H.check(missing.severity == vim.diagnostic.severity.ERROR, 'missing-field is not an error')
  H.check(missing.source == 'baton', 'the source is not baton: ' .. tostring(missing.source))
  H.check(missing.message:match('Expected Output') ~= nil,
    'the message does not name `Expected Output`: ' .. missing.message)
  H.ok('missing-field on line 1: ' .. missing.message)

  -- An ordinary Markdown file gets nothing.
  vim.fn.writefile({ '# Notes', '', 'Just notes.' }, dir .. '/plain.md')
  local plain = H.open(dir .. '/plain.md')
  vim.wait(500)
  H.check(#vim.diagnostic.get(plain) == 0, 'an ordinary Markdown file got diagnostics')
  H.ok('an ordinary Markdown file gets none')
end)
