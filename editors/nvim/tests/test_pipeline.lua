-- The `▶ Run pipeline` code lens on a brief that links another runs the three briefs it
-- needs, in dependency order: each answer lands under its brief, marked done, in the buffer
-- and in background.brief.md, which is not open (on disk); the lens then says all are up to
-- date.
local H = dofile(os.getenv('BATON_REPO') .. '/editors/nvim/tests/helpers.lua')

local PIPELINE = {
  '# Gather facts @fast', '', '## Objective', '',
  'List three facts from [[background.brief.md#Background]].', '', '## Context', '',
  'For the review.', '', '## Constraints', '', 'Public sources.', '', '## Expected Output', '',
  'Three bullets.', '', '# Write summary @fast', '', '## Objective', '',
  'Summarize [[Gather facts]].', '', '## Context', '', 'For the review.', '', '## Constraints',
  '', 'Plain words.', '', '## Expected Output', '', 'One paragraph.',
}

--- The code lenses of `buf` whose title matches `pattern`.
local function lenses(buf, pattern)
  local found = {}
  for _, lens in ipairs(vim.lsp.codelens.get(buf)) do
    if lens.command and lens.command.title:match(pattern) then
      table.insert(found, lens)
    end
  end
  return found
end

--- Waits for a lens of `buf` titled as `pattern` says, asking for lenses again now and then.
local function wait_for_lens(buf, pattern, what)
  local found
  local asked = 0
  vim.wait(10000, function()
    if vim.uv.now() - asked > 300 then
      asked = vim.uv.now()
      vim.lsp.codelens.refresh({ bufnr = buf })
    end
    found = lenses(buf, pattern)[1]
    return found ~= nil
  end, 20)
  local titles = vim.tbl_map(function(lens)
    return lens.command and lens.command.title
  end, vim.lsp.codelens.get(buf))
  H.check(found ~= nil, ('no lens for %s; the lenses: %s'):format(what, vim.inspect(titles)))
  return found
end

--- How many markers of `buf` say done.
local function done_blocks(buf)
  local done = 0
  for _, line in ipairs(H.lines(buf)) do
    if line:match('^<!%-%- baton:output .*status=done') then
      done = done + 1
    end
  end
  return done
end

local BACKGROUND = {
  '# Background @fast', '', '## Objective', '', 'Say what Acme sells.', '', '## Context', '',
  'For the review.', '', '## Constraints', '', 'Public sources.', '', '## Expected Output', '',
  'One line.',
}

H.run('pipeline', function()
  local fast = H.fake_agent(5, 5)
  require('baton').setup({ cmd = H.bin })
  local dir = H.workspace({ fast = fast })
  vim.fn.writefile(PIPELINE, dir .. '/pipeline.brief.md')
  vim.fn.writefile(BACKGROUND, dir .. '/background.brief.md')
  local buf = H.open(dir .. '/pipeline.brief.md')

  local run_lens = wait_for_lens(buf, '^▶ Run pipeline · 3 briefs, 0 up to date$',
    'the Run pipeline lens on "Write summary"')
  H.ok('lens: ' .. run_lens.command.title)
  -- The budget lens comes counted, or is left for codeLens/resolve, which Neovim asks itself.
  local budget = wait_for_lens(buf, '^@fast · [%d.]+k? / %d+k$', 'the budget of a brief')
  H.ok('budget lens: ' .. budget.command.title)

  -- The lens's line also has the send lens: pick "Run pipeline" when Neovim asks.
  vim.ui.select = function(items, opts, on_choice)
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or tostring(item)
      if title:match('Run pipeline') then
        return on_choice(item, i)
      end
    end
    H.fail('no Run pipeline among the lenses of the line: ' .. vim.inspect(items))
  end
  vim.api.nvim_win_set_cursor(0, { run_lens.range.start.line + 1, 0 })
  vim.lsp.codelens.run()

  H.wait(15000, function()
    return done_blocks(buf) == 2
  end, 'both briefs answered, done')
  local lines = H.lines(buf)
  local at = {}
  for i, line in ipairs(lines) do
    if line == '# Gather facts @fast' then
      at.gather = i
    elseif line == '# Write summary @fast' then
      at.summary = i
    elseif line == '## Output @fast' then
      table.insert(at, i)
    end
  end
  H.check(#at == 2, 'expected two output blocks, found ' .. #at)
  H.check(at.gather < at[1] and at[1] < at.summary and at.summary < at[2],
    'the blocks are not under their briefs')
  H.check(lines[at[1] + 2] == 'word1 word2 word3 word4 word5', 'the first answer is ' .. lines[at[1] + 2])
  H.ok('both blocks landed under their briefs')
  local background = table.concat(vim.fn.readfile(dir .. '/background.brief.md'), '\n')
  local answered = '\n## Output @fast\n<!%-%- baton:output [^\n]*status=done %-%->\nword1 word2 word3 word4 word5\n'
  H.check(background:match(answered) ~= nil,
    'background.brief.md (not open) was not answered on disk:\n' .. background)
  H.ok('background.brief.md answered on disk')

  wait_for_lens(buf, '^▶ Run pipeline · 3 briefs, 3 up to date$',
    'the lens to say both briefs are up to date')
  H.ok('up to date')
end)
