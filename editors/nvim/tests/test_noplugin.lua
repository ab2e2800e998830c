-- Without setup(): the plugin's lsp/baton.lua gives `vim.lsp.enable('baton')` its defaults.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('noplugin', function()
  vim.lsp.config('baton', { cmd = { H.bin, 'lsp' } })
  vim.lsp.enable('baton')
  local dir = H.workspace()
  local buf, client = H.open(dir .. '/missing.brief.md')
  H.check(vim.tbl_get(client.capabilities, 'workspace', 'workspaceEdit', 'documentChanges') == true,
    'lsp/baton.lua does not advertise workspaceEdit.documentChanges')
  H.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'missing-field' then
        return true
      end
    end
    return false
  end, 'the missing-field diagnostic')
  H.check(vim.fn.exists(':BatonSend') == 0, ':BatonSend exists without setup()')
  H.ok('vim.lsp.enable("baton") alone attaches with the defaults of lsp/baton.lua')
end)
