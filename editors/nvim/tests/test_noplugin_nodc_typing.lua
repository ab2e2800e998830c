-- A configuration that leaves out the README's `capabilities` line: Neovim then does not
-- declare `workspaceEdit.documentChanges`, and the server may only send unversioned edits. An
-- answer streams in while the user types at the top every 100 ms and every 30 ms; the buffer
-- still ends exact, with one block.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')
local S = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/stream_typing.lua')

H.run('noplugin_nodc_typing', function()
  S.capture_prints()
  -- Neither the plugin nor its lsp/baton.lua: Neovim's own capabilities only.
  vim.opt.runtimepath:remove(H.repo .. '/editors/nvim')
  local dir = S.workspace(H)
  vim.lsp.config('baton', {
    cmd = { H.bin, 'lsp' },
    filetypes = { 'markdown' },
    root_markers = { 'baton.toml', '.git' },
  })
  vim.lsp.enable('baton')
  local _, client = S.open(H, dir .. '/missing.brief.md')
  H.check(vim.tbl_get(client.capabilities, 'workspace', 'workspaceEdit', 'documentChanges') == nil,
    'Neovim declares workspaceEdit.documentChanges by itself now; this test no longer tests its case')
  S.stream_while_typing(H, dir, 100, 'no documentChanges')
  S.stream_while_typing(H, dir, 30, 'no documentChanges')
end)
