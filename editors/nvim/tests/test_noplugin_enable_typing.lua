-- `vim.lsp.enable('baton')` alone, with the defaults of editors/nvim/lsp/baton.lua: an answer
-- streams in while the user types at the top every 100 ms and every 30 ms; the buffer ends
-- exact, with one block, and Neovim never drops an edit.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')
local S = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/stream_typing.lua')

H.run('noplugin_enable_typing', function()
  S.capture_prints()
  local dir = S.workspace(H)
  vim.lsp.config('baton', { cmd = { H.bin, 'lsp' } })
  vim.lsp.enable('baton')
  S.stream_while_typing(H, dir, 100, 'vim.lsp.enable')
  S.stream_while_typing(H, dir, 30, 'vim.lsp.enable')
end)
