-- The default configuration of the `baton` language server, for `vim.lsp.enable('baton')`
-- without `require('baton').setup()` (which adds the :Baton* commands and run messages).
return {
  cmd = { 'baton', 'lsp' },
  filetypes = { 'markdown' },
  root_markers = { 'baton.toml', '.git' },
  -- Neovim applies versioned edits but does not advertise them; the streamed output needs them
  -- to stay in place while you type.
  capabilities = { workspace = { workspaceEdit = { documentChanges = true } } },
}
