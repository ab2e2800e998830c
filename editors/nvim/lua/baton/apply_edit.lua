-- `workspace/applyEdit` for the baton server, shared by the plugin (require('baton').setup())
-- and editors/nvim/lsp/baton.lua (vim.lsp.enable('baton') alone).
--
-- The server streams answers with versioned edits. Neovim's own handler drops an edit made for
-- an older version of the buffer, prints "newer than edits", and still answers `applied = true`
-- (and checks no version 0, where every buffer starts). This one refuses such an edit
-- (`applied = false`), as LSP intends, so the server sends the next one computed from the newer
-- text, and applies the rest with Neovim's handler.
local M = {}

function M.handler(err, params, ctx)
  local changes = params and params.edit and params.edit.documentChanges
  for _, change in ipairs(changes or {}) do
    local document = change.textDocument
    local version = document and document.version
    if type(version) == 'number' then
      local buf = vim.uri_to_bufnr(document.uri)
      local version_now = vim.lsp.util.buf_versions[buf]
      if vim.lsp.buf_is_attached(buf, ctx.client_id) and version_now ~= version then
        return {
          applied = false,
          failureReason = ('the buffer is at version %d, the edit was made for %d'):format(version_now, version),
        }
      end
    end
  end
  return vim.lsp.handlers['workspace/applyEdit'](err, params, ctx)
end

-- Versioned edits (`documentChanges`), which Neovim applies but does not declare; and
-- `failureHandling`, which tells the server that a stale edit is refused here rather than
-- dropped in silence, so it may stream answers while you type. Without both, the server
-- writes an answer only when typing pauses.
M.capabilities = { workspace = { workspaceEdit = { documentChanges = true, failureHandling = 'abort' } } }

return M
