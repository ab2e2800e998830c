-- The README's setup without the plugin (`vim.lsp.config` with versioned edits declared, then
-- `vim.lsp.enable`): an answer streams in while the user types at the top every 100 ms and
-- every 30 ms; the buffer ends exact, with one block, and Neovim never drops an edit.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')
local S = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/stream_typing.lua')

H.run('noplugin_typing', function()
  S.capture_prints()
  -- Only the binary: neither the plugin nor its lsp/baton.lua on 'runtimepath'.
  vim.opt.runtimepath:remove(H.repo .. '/editors/nvim')
  local dir = S.workspace(H)
  vim.lsp.config('baton', {
    cmd = { H.bin, 'lsp' },
    filetypes = { 'markdown' },
    root_markers = { 'baton.toml', '.git' },
    capabilities = { workspace = { workspaceEdit = { documentChanges = true } } },
  })
  vim.lsp.enable('baton')
  S.stream_while_typing(H, dir, 100, 'vim.lsp.config')
  S.stream_while_typing(H, dir, 30, 'vim.lsp.config')
end)
