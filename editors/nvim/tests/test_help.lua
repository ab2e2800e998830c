-- doc/baton.txt is a valid help file: :helptags accepts it and :help finds its tags.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

H.run('help', function()
  local root = H.tmp .. '/help'
  vim.fn.delete(root, 'rf')
  vim.fn.mkdir(root .. '/doc', 'p')
  vim.fn.writefile(vim.fn.readfile(H.repo .. '/editors/nvim/doc/baton.txt'), root .. '/doc/baton.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(root .. '/doc'))
  H.check(vim.v.errmsg == '', 'helptags failed: ' .. vim.v.errmsg)
  vim.opt.runtimepath:append(root)
  for _, tag in ipairs({ 'baton', 'baton.setup()', ':BatonSend', ':BatonPreview', ':BatonCancel',
    ':BatonJournal', 'baton-trusted_workspace', 'baton-progress' }) do
    local ok, err = pcall(vim.cmd.help, tag)
    H.check(ok, (':help %s failed: %s'):format(tag, tostring(err)))
    H.check(vim.fn.expand('%:t') == 'baton.txt', (':help %s opened %s'):format(tag, vim.fn.expand('%:t')))
  end
  H.ok(':help finds every tag in baton.txt')
end)
