-- A scripted Neovim session with mapctl's language server, run headless by tests/lsp_neovim.rs:
--   nvim --headless -u NONE -i NONE -n -c "luafile tests/nvim/session.lua"
-- Neovim's own LSP client (0.7+: vim.lsp.start_client, buf_attach_client) talks to `mapctl lsp`.
-- The session fixes a stage typo with a code action, sees a schema edit on disk re-checked
-- without the mapping being touched, renames a table, and reads the outline. Each step writes
-- one line `ok STEP detail` or `fail STEP detail` to $MAPCTL_NVIM_RESULT; the script quits.

local result_path = os.getenv("MAPCTL_NVIM_RESULT")
local mapping = os.getenv("MAPCTL_NVIM_MAPPING")
local schema = os.getenv("MAPCTL_NVIM_SCHEMA")
local binary = os.getenv("MAPCTL_BIN")
local lines = {}

local function report(ok, step, detail)
  table.insert(lines, (ok and "ok " or "fail ") .. step .. " " .. (detail or ""))
end

local function finish()
  local file = io.open(result_path, "w")
  file:write(table.concat(lines, "\n") .. "\n")
  file:close()
  vim.cmd("qa!")
end

local function codes(buf)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(found, tostring(d.code or lsp.code))
  end
  table.sort(found)
  return table.concat(found, ",")
end

local function wait_for(predicate)
  return vim.wait(20000, predicate, 20)
end

local function buffer_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(mapping))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = "mapctl"
  local client_id = vim.lsp.start_client({
    name = "mapctl",
    cmd = { binary, "lsp" },
    root_dir = vim.fn.fnamemodify(mapping, ":h"),
  })
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)

  -- 1. A stage typo, fixed by the server's code action.
  if not wait_for(function() return codes(buf):find("M205") ~= nil end) then
    report(false, "typo", "no M205, got [" .. codes(buf) .. "]")
    return
  end
  -- As `vim.lsp.buf.code_action` does: the line's diagnostics in LSP shape.
  local typo
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    if (d.code or lsp.code) == "M205" then
      if vim.lsp.diagnostic.get_line_diagnostics then
        for _, on_line in ipairs(vim.lsp.diagnostic.get_line_diagnostics(buf, d.lnum)) do
          if on_line.code == "M205" then typo = on_line end
        end
      else -- later Neovims: build it (the line holds no multi-byte character before the typo)
        typo = {
          range = { start = { line = d.lnum, character = d.col },
                    ["end"] = { line = d.end_lnum, character = d.end_col } },
          message = d.message, code = "M205", severity = d.severity,
        }
      end
    end
  end
  local answer = client.request_sync("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = typo.range,
    context = { diagnostics = { typo } },
  }, 10000, buf)
  local fix
  for _, action in ipairs(answer and answer.result or {}) do
    if action.title:find("closedwon", 1, true) then fix = action end
  end
  if not fix then
    report(false, "typo", "no fix offered: " .. vim.inspect(answer):gsub("\n", " "))
    return
  end
  vim.lsp.util.apply_workspace_edit(fix.edit, "utf-16")
  if wait_for(function() return codes(buf) == "" end) then
    report(true, "typo", fix.title)
  else
    report(false, "typo", "after the fix: [" .. codes(buf) .. "]")
  end

  -- 2. The schema edited on disk (the stage removed): re-checked, the mapping untouched.
  local file = io.open(schema, "r")
  local original = file:read("*a")
  file:close()
  local edited = original:gsub('"closedwon",', "", 1)
  file = io.open(schema, "w")
  file:write(edited)
  file:close()
  if wait_for(function() return codes(buf):find("M205") ~= nil end) then
    report(true, "schema", codes(buf))
  else
    report(false, "schema", "no diagnostic after the schema edit: [" .. codes(buf) .. "]")
  end
  file = io.open(schema, "w")
  file:write(original)
  file:close()
  if not wait_for(function() return codes(buf) == "" end) then
    report(false, "schema", "not clean after the schema was restored: [" .. codes(buf) .. "]")
  end

  -- 3. Rename the table `job_types` everywhere.
  local row, col
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local found = line:find("lookup(job_types)", 1, true)
    if found then row, col = i - 1, found + 7 end
  end
  local renamed = client.request_sync("textDocument/rename", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = row, character = col },
    newName = "service_types",
  }, 10000, buf)
  if renamed and renamed.result then
    vim.lsp.util.apply_workspace_edit(renamed.result, "utf-16")
  end
  local text = buffer_text(buf)
  local _, uses = text:gsub("service_types", "")
  if not text:find("job_types", 1, true) and uses >= 2 then
    report(true, "rename", tostring(uses) .. " places")
  else
    report(false, "rename", "text still names job_types or lacks service_types")
  end
  if not wait_for(function() return codes(buf) == "" end) then
    report(false, "rename", "renamed mapping does not check: [" .. codes(buf) .. "]")
  end

  -- 4. The outline.
  local outline = client.request_sync("textDocument/documentSymbol", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
  }, 10000, buf)
  local names = {}
  for _, symbol in ipairs(outline and outline.result or {}) do
    table.insert(names, symbol.name)
  end
  report(#names > 0, "outline", table.concat(names, "|"))

  client.stop()
end)

if not ok then
  report(false, "script", tostring(err))
end
finish()
