-- The default configuration of the `baton` language server, for `vim.lsp.enable('baton')`
-- without `require('baton').setup()` (which adds the :Baton* commands and run messages).
local apply_edit = require('baton.apply_edit')

return {
  cmd = { 'baton', 'lsp' },
  filetypes = { 'markdown' },
  root_markers = { 'baton.toml', '.git' },
  -- Versioned edits, refused when stale rather than dropped in silence: the streamed answer
  -- stays in place, and keeps streaming, while you type (see lua/baton/apply_edit.lua).
  capabilities = apply_edit.capabilities,
  handlers = { ['workspace/applyEdit'] = apply_edit.handler },
}
