-- luacheck configuration for the Neovim plugin and its tests (scripts/e2e/nvim runs it).
std = 'luajit'
globals = { 'vim' }
max_line_length = 120
