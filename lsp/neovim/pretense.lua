-- pretense-dev in Neovim (0.10 or later): secret diagnostics, protected-name hovers,
-- policy code actions, and the proxy's state for your statusline.
--
-- Put this file on your runtimepath as lua/pretense.lua, then in init.lua:
--
--   require("pretense").setup()
--   -- optional: vim.o.statusline = "%f %= %{v:lua.require'pretense'.statusline()}"
--
-- It starts one `pretense-dev lsp` per repository root (the directory holding
-- .pretense/ or .git/) for every buffer with a filetype, saved or not.
local M = {}

M.status = {}

local STATE_LABELS = {
  ["up"] = "pretense: protected",
  ["down"] = "pretense: proxy down",
  ["not-protecting"] = "pretense: not protecting",
  ["unknown"] = "pretense: ?",
}

-- opts.cmd: how to start the server; opts.init_options: initializationOptions
-- (debounceMs, severity = "error"|"warning", hover, codeActions, statusMessages,
-- statusPollSeconds).  An invalid option is reported and replaced by its default.
function M.setup(opts)
  opts = opts or {}
  -- vim.fs.root and vim.lsp.start's current form need 0.10: say so once, not a
  -- Lua error on every file open.
  if vim.fn.has("nvim-0.10") ~= 1 then
    local v = vim.version()
    vim.notify(
      string.format("pretense-dev: needs Neovim 0.10 or later (this is %d.%d.%d); not started.",
        v.major, v.minor, v.patch),
      vim.log.levels.WARN
    )
    return false
  end
  local cmd = opts.cmd or { "pretense-dev", "lsp" }
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("pretense-dev", { clear = true }),
    callback = function(args)
      if vim.bo[args.buf].buftype ~= "" then
        return
      end
      vim.lsp.start({
        name = "pretense-dev",
        cmd = cmd,
        root_dir = vim.fs.root(args.buf, { ".pretense", ".git" }),
        -- An empty Lua table would be sent as a JSON list: an object is required.
        init_options = opts.init_options or vim.empty_dict(),
        handlers = {
          -- The server's status notification: the proxy's state for a repository.
          ["pretense/status"] = function(_, status)
            M.status[status.root or ""] = status
            vim.cmd.redrawstatus()
          end,
        },
      }, { bufnr = args.buf })
    end,
  })
  return true
end

-- A statusline fragment: the proxy's state for the current buffer's repository.
function M.statusline()
  local file = vim.api.nvim_buf_get_name(0)
  local best, best_len = nil, -1
  for root, status in pairs(M.status) do
    if root ~= "" and vim.startswith(file, root .. "/") and #root > best_len then
      best, best_len = status, #root
    end
  end
  if best == nil then
    return ""
  end
  return STATE_LABELS[best.state] or STATE_LABELS["unknown"]
end

return M
