defmodule Vigil.ReadmeCodeTest do
  # README.md's ```elixir and ```erlang blocks, so that they cannot rot (its ```sh blocks are
  # test/e2e/readme_test.sh's). A block is marked by an HTML comment on the line before it:
  #
  #   (none)                  code. Parsed; every call of vigil's API in it must exist with that
  #                           arity. Blocks that define modules or functions are compiled. Blocks
  #                           of expressions are compiled as a function of their free variables
  #                           and run under a real AF_UNIX receiver, with stubs for the user's
  #                           own modules and functions; those that need sockets from systemd
  #                           (listen_options) are compiled only: test/e2e/sockets_test.sh runs
  #                           that path under systemd.
  #   <!-- code: config -->   a configuration file's text (config/*.exs, sys.config, rebar.config):
  #                           read as the file would be; vigil's keys in it pass vigil's checks.
  #   <!-- code: iex -->      an iex session: each `iex>` line runs, the shown result is read.
  #   <!-- code: term -->     an Erlang term, as a function returns it: read.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  @readme Path.expand("../README.md", __DIR__)
  @kinds ~w(code config iex term)

  defp blocks do
    lines = @readme |> File.read!() |> String.split("\n") |> Enum.with_index(1)
    collect(lines, nil, [])
  end

  defp collect([], _mark, acc), do: Enum.reverse(acc)

  defp collect([{"<!-- code: " <> rest, _} | tail], _mark, acc),
    do: collect(tail, String.trim_trailing(rest, " -->"), acc)

  defp collect([{"```" <> lang, n} | tail], mark, acc) when lang in ["elixir", "erlang"] do
    {body, [_close | rest]} = Enum.split_while(tail, fn {l, _} -> l != "```" end)
    text = Enum.map_join(body, "\n", &elem(&1, 0))
    collect(rest, nil, [%{lang: lang, line: n, kind: mark || "code", text: text} | acc])
  end

  defp collect([_ | tail], mark, acc), do: collect(tail, mark, acc)

  test "the README has code blocks, each marked with a known kind" do
    bs = blocks()
    assert length(bs) >= 20
    for b <- bs, do: assert(b.kind in @kinds, "README.md:#{b.line}: unknown mark #{b.kind}")
  end

  test "every call of vigil's API in a block exists" do
    for b <- blocks(), b.kind != "term", {m, f, a} <- api_calls(b) do
      Code.ensure_loaded(m)

      assert function_exported?(m, f, a),
             "README.md:#{b.line}: #{inspect(m)}.#{f}/#{a} does not exist"
    end
  end

  test "code blocks compile, and those that can run do" do
    stubs = define_user_stubs(blocks())

    for {b, i} <- Enum.with_index(blocks()), b.kind == "code" do
      try do
        code_block(b, i, stubs)
      rescue
        e -> flunk("README.md:#{b.line}: #{Exception.format(:error, e, __STACKTRACE__)}")
      end
    end
  end

  @tag :tmp_dir
  test "configuration blocks read as their files are, and vigil accepts its keys", %{tmp_dir: dir} do
    File.write!(Path.join(dir, "db-password"), "pw\n")
    File.write!(Path.join(dir, "secret-key-base"), "skb\n")
    System.put_env("CREDENTIALS_DIRECTORY", dir)
    on_exit(fn -> System.delete_env("CREDENTIALS_DIRECTORY") end)
    define_user_stubs(blocks())

    for b <- blocks(), b.kind == "config" do
      case b.lang do
        "elixir" -> elixir_config(b, dir)
        "erlang" -> erlang_config(b)
      end
    end
  end

  test "iex sessions run and term blocks read" do
    for b <- blocks(), b.kind in ["iex", "term"] do
      case b.lang do
        "elixir" -> iex_session(b)
        "erlang" -> assert {:ok, _} = erl_term(b.text), "README.md:#{b.line}: not a term"
      end
    end
  end

  # ---- vigil's API as a block calls it ----

  defp api_calls(%{lang: "elixir", text: text} = b) do
    {_, calls} = Macro.prewalk(quoted(b, text), [], &elixir_call/2)
    Enum.filter(calls, fn {m, _, _} -> vigil_module?(m) end)
  end

  defp api_calls(%{lang: "erlang"} = b) do
    forms = erl_exprs_or_terms(b)
    calls = for f <- forms, c <- erl_calls(f), do: c
    Enum.filter(calls, fn {m, _, _} -> vigil_module?(m) end)
  end

  defp vigil_module?(m) when is_atom(m) do
    name = Atom.to_string(m)
    m == Vigil or String.starts_with?(name, ["Elixir.Vigil.", "vigil"])
  end

  defp vigil_module?(_), do: false

  defp elixir_call({:&, _, [{:/, _, [{{:., _, [m, f]}, _, _}, a]}]} = node, acc)
       when is_integer(a),
       do: {node, [{alias_of(m), f, a} | acc]}

  defp elixir_call({{:., _, [m, f]}, _, args} = node, acc) when is_atom(f) and is_list(args),
    do: {node, [{alias_of(m), f, length(args)} | acc]}

  # A child spec: {Vigil.Status, opts} or a bare Vigil.Ready.
  defp elixir_call({{:__aliases__, _, [:Vigil, _]} = m, _opts} = node, acc),
    do: {node, [{alias_of(m), :child_spec, 1} | acc]}

  # A logger handler module: {:handler, id, module, config}.
  defp elixir_call({:{}, _, [:handler, _id, m, _]} = node, acc) when is_atom(m),
    do: {node, [{m, :log, 2} | acc]}

  defp elixir_call(node, acc), do: {node, acc}

  defp alias_of({:__aliases__, _, parts}), do: Module.concat(parts)
  defp alias_of(m), do: m

  defp erl_calls(form) do
    {_, acc} = erl_walk(form, [])
    acc
  end

  defp erl_walk({:call, _, {:remote, _, {:atom, _, m}, {:atom, _, f}}, args} = node, acc),
    do: erl_walk_children(node, [{m, f, length(args)} | acc])

  defp erl_walk({:tuple, _, [{:atom, _, :handler}, _, {:atom, _, m}, _]} = node, acc),
    do: erl_walk_children(node, [{m, :log, 2} | acc])

  defp erl_walk(node, acc), do: erl_walk_children(node, acc)

  defp erl_walk_children(node, acc) when is_tuple(node),
    do:
      node
      |> Tuple.to_list()
      |> Enum.reduce(acc, fn c, a -> elem(erl_walk(c, a), 1) end)
      |> then(&{node, &1})

  defp erl_walk_children(node, acc) when is_list(node),
    do: {node, Enum.reduce(node, acc, fn c, a -> elem(erl_walk(c, a), 1) end)}

  defp erl_walk_children(node, acc), do: {node, acc}

  # ---- Elixir code ----

  defp quoted(b, text) do
    case Code.string_to_quoted(text, file: "README.md", line: b.line + 1) do
      {:ok, ast} -> ast
      {:error, e} -> flunk("README.md:#{b.line}: does not parse: #{inspect(e)}")
    end
  end

  defp code_block(%{lang: "elixir"} = b, i, _stubs) do
    ast = quoted(b, b.text)

    cond do
      defines?(ast, :defmodule) ->
        compile(b.text, b)

      defines?(ast, :def) or defines?(ast, :defp) ->
        # Public, so that a private function no one calls is not a warning.
        text = String.replace(b.text, ~r/^defp /m, "def ")
        compile("defmodule Vigil.ReadmeBlock#{i} do\n#{text}\nend", b)

      true ->
        run_elixir(ast, b, i)
    end
  end

  defp code_block(%{lang: "erlang"} = b, i, _stubs), do: run_erlang(b, i)

  defp defines?(ast, what) do
    {_, found} =
      Macro.prewalk(ast, false, fn
        {^what, _, _} = n, _ -> {n, true}
        n, acc -> {n, acc}
      end)

    found
  end

  # Modules are compiled under a name of their own, so that each block's Shop.Application is
  # its own and nothing of the app is replaced.
  defp compile(text, b) do
    text =
      String.replace(text, ~r/defmodule (\S+) do/, "defmodule Vigil.ReadmeBlock#{b.line}.\\1 do")

    {_, diagnostics} =
      ExUnit.CaptureIO.with_io(:stderr, fn -> Code.compile_string(text, "README.md") end)

    refute diagnostics =~ ~r/undefined|unused|deprecated/, "README.md:#{b.line}: #{diagnostics}"
  end

  defp run_elixir(ast, b, i) do
    vars = free_vars(ast)
    locals = local_calls(ast)
    params = Enum.map(vars, &Macro.var(&1, nil))

    stubs =
      for {f, a} <- locals do
        args = Macro.generate_unique_arguments(a, nil)
        quote do: defp(unquote(f)(unquote_splicing(args)), do: :ok)
      end

    mod = Module.concat(Vigil, "ReadmeBlock#{i}")

    module =
      quote do
        defmodule unquote(mod) do
          def __readme_block__(unquote_splicing(params)), do: unquote(ast)
          unquote_splicing(stubs)
        end
      end

    Code.compile_quoted(module, "README.md")

    unless needs_systemd_sockets?(b.text) do
      receiver = Receiver.under_manager()
      apply(mod, :__readme_block__, Enum.map(vars, fn _ -> [1] end))
      assert {:ok, _} = Receiver.recv(receiver), "README.md:#{b.line}: nothing was sent"
    end
  end

  defp needs_systemd_sockets?(text), do: text =~ "listen_options("

  defp free_vars(ast) do
    {_, {used, bound}} =
      Macro.prewalk(ast, {MapSet.new(), MapSet.new()}, fn
        # "#{x}" is x :: binary, a type and no variable.
        {:"::", _, [left, _type]}, acc ->
          {left, acc}

        {op, _, [left, _right]} = n, {u, bd} when op in [:=, :<-] ->
          {n, {u, MapSet.union(bd, vars_in(left))}}

        {:->, _, [args, _]} = n, {u, bd} ->
          {n, {u, MapSet.union(bd, vars_in(args))}}

        {name, _, ctx} = n, {u, bd} when is_atom(name) and is_atom(ctx) ->
          {n, {MapSet.put(u, name), bd}}

        n, acc ->
          {n, acc}
      end)

    used
    |> MapSet.difference(bound)
    |> Enum.reject(&(Atom.to_string(&1) =~ ~r/^_/))
    |> Enum.sort()
  end

  defp vars_in(ast) do
    {_, vs} =
      Macro.prewalk(ast, MapSet.new(), fn
        {name, _, ctx} = n, acc when is_atom(name) and is_atom(ctx) -> {n, MapSet.put(acc, name)}
        n, acc -> {n, acc}
      end)

    vs
  end

  # Calls of functions the block's reader defines: not Kernel's, not special forms.
  defp local_calls(ast) do
    known = Kernel.__info__(:functions) ++ Kernel.__info__(:macros)
    special = Kernel.SpecialForms.__info__(:macros)

    {_, calls} =
      Macro.prewalk(ast, MapSet.new(), fn
        {f, _, args} = n, acc when is_atom(f) and is_list(args) ->
          fa = {f, length(args)}

          if fa in known or fa in special or f in [:__block__, :->],
            do: {n, acc},
            else: {n, MapSet.put(acc, fa)}

        n, acc ->
          {n, acc}
      end)

    Enum.to_list(calls)
  end

  # The user's own modules a block calls (MyApp.Config, MyApp.Health), as modules whose
  # functions answer :ok.
  defp define_user_stubs(bs) do
    calls =
      for b <- bs,
          b.lang == "elixir",
          b.kind in ["code", "config"],
          {m, f, a} <- user_calls(quoted(b, b.text)),
          not Code.ensure_loaded?(m),
          uniq: true,
          do: {m, f, a}

    for {m, fas} <- Enum.group_by(calls, &elem(&1, 0), &Tuple.delete_at(&1, 0)),
        not Code.ensure_loaded?(m) do
      funs =
        for {f, a} <- fas do
          args = Macro.generate_unique_arguments(a, nil)
          quote do: def(unquote(f)(unquote_splicing(args)), do: :ok)
        end

      Module.create(m, quote(do: (unquote_splicing(funs))), Macro.Env.location(__ENV__))
    end

    calls
  end

  defp user_calls(ast) do
    {_, calls} = Macro.prewalk(ast, [], &elixir_call/2)
    # An MFA in a configuration: {MyApp.Health, :check, []}.
    {_, mfas} =
      Macro.prewalk(ast, [], fn
        {:{}, _, [{:__aliases__, _, _} = m, f, args]} = n, acc
        when is_atom(f) and is_list(args) ->
          {n, [{alias_of(m), f, length(args)} | acc]}

        n, acc ->
          {n, acc}
      end)

    Enum.filter(calls ++ mfas, fn {m, _, _} ->
      is_atom(m) and String.starts_with?(Atom.to_string(m), "Elixir.MyApp")
    end)
  end

  # ---- Erlang code ----

  defp erl_tokens(b) do
    case :erl_scan.string(String.to_charlist(b.text), b.line + 1) do
      {:ok, tokens, _} -> tokens
      e -> flunk("README.md:#{b.line}: does not scan: #{inspect(e)}")
    end
  end

  defp erl_exprs_or_terms(b) do
    b |> erl_tokens() |> split_dots() |> Enum.map(&erl_parse_exprs(&1, b))
  end

  defp split_dots(tokens) do
    tokens
    |> Enum.chunk_while(
      [],
      fn
        {:dot, _} = d, acc -> {:cont, Enum.reverse([d | acc]), []}
        t, acc -> {:cont, [t | acc]}
      end,
      fn
        [] -> {:cont, []}
        acc -> {:cont, Enum.reverse([{:dot, 1} | acc]), []}
      end
    )
  end

  defp erl_parse_exprs(tokens, b) do
    case :erl_parse.parse_exprs(tokens) do
      {:ok, exprs} -> exprs
      e -> flunk("README.md:#{b.line}: does not parse: #{inspect(e)}")
    end
  end

  defp erl_term(text) do
    with {:ok, tokens, _} <- :erl_scan.string(String.to_charlist(text) ++ ~c"."),
         do: :erl_parse.parse_term(tokens)
  end

  # Expressions become the body of readme_block/N, N being their unbound variables; the functions they
  # call without a module (reload_config()) are stubs. erl_lint names both.
  defp run_erlang(b, i) do
    [exprs] = erl_exprs_or_terms(b)
    mod = :"vigil_readme_block_#{i}"
    {bin, vars} = erl_compile(mod, exprs, [], [], b)
    {:module, ^mod} = :code.load_binary(mod, ~c"README.md", bin)

    unless needs_systemd_sockets?(b.text) do
      receiver = Receiver.under_manager()
      apply(mod, :readme_block, Enum.map(vars, fn _ -> :stub end))
      assert {:ok, _} = Receiver.recv(receiver), "README.md:#{b.line}: nothing was sent"
    end
  end

  defp erl_compile(mod, exprs, vars, locals, b) do
    l = b.line
    params = for v <- vars, do: {:var, l, v}

    stubs =
      for {f, a} <- locals,
          do:
            {:function, l, f, a,
             [{:clause, l, List.duplicate({:var, l, :_}, a), [], [{:atom, l, :ok}]}]}

    forms =
      [
        {:attribute, l, :module, mod},
        {:attribute, l, :export, [readme_block: length(vars)]},
        {:function, l, :readme_block, length(vars), [{:clause, l, params, [], exprs}]}
      ] ++ stubs

    case :compile.forms(forms, [:return_errors, :binary, :nowarn_unused_vars]) do
      {:ok, ^mod, bin} ->
        {bin, vars}

      {:error, [{_, errors}], _} ->
        unbound = for {_, :erl_lint, {:unbound_var, v}} <- errors, do: v
        undefined = for {_, :erl_lint, {:undefined_function, fa}} <- errors, do: fa
        if unbound == [] and undefined == [], do: flunk("README.md:#{l}: #{inspect(errors)}")
        erl_compile(mod, exprs, vars ++ unbound, locals ++ undefined, b)
    end
  end

  # ---- configuration ----

  defp elixir_config(b, dir) do
    file = Path.join(dir, "config_#{b.line}.exs")
    File.write!(file, "import Config\n" <> b.text)
    config = Config.Reader.read!(file, env: :prod, target: :host)
    vigil = Keyword.get(config, :vigil, [])
    check_vigil_env(Keyword.delete(vigil, :unit), b)
    check_unit_keys(Keyword.get(vigil, :unit, []), b)
    check_handlers(get_in(config, [:kernel, :logger]) || [], b)
  end

  defp erlang_config(b) do
    for exprs <- erl_exprs_or_terms(b), expr <- exprs do
      {:value, term, _} = :erl_eval.expr(expr, :erl_eval.new_bindings())

      case term do
        {:deps, deps} ->
          assert List.keymember?(deps, :vigil, 0), "README.md:#{b.line}: no vigil dep"

        {:kernel, kernel} ->
          check_handlers(Keyword.get(kernel, :logger, []), b)
      end
    end
  end

  # vigil_config's own checks, with the application's environment as the block sets it.
  defp check_vigil_env([], _b), do: :ok

  defp check_vigil_env(env, b) do
    saved = Application.get_all_env(:vigil)

    try do
      for {k, v} <- env, do: Application.put_env(:vigil, k, v)
      assert {:ok, _} = :vigil_config.load(), "README.md:#{b.line}: vigil refuses it"
    after
      for {k, _} <- env, do: Application.delete_env(:vigil, k)
      for {k, v} <- saved, do: Application.put_env(:vigil, k, v)
      {:ok, _} = :vigil_config.load()
    end
  end

  defp check_unit_keys([], _b), do: :ok

  defp check_unit_keys(unit, b) do
    bin = Path.join(:code.priv_dir(:vigil), "vigil-unit")
    {out, 0} = System.cmd(bin, ["--keys"])
    keys = for line <- String.split(out, "\n", trim: true), do: line |> String.split("\t") |> hd()

    for {k, _} <- unit,
        do: assert(Atom.to_string(k) in keys, "README.md:#{b.line}: vigil-unit has no key #{k}")
  end

  defp check_handlers(logger, b) do
    for {:handler, _id, m, _} <- logger, m != :undefined do
      Code.ensure_loaded(m)
      assert function_exported?(m, :log, 2), "README.md:#{b.line}: #{m} is no logger handler"
    end
  end

  # ---- iex ----

  defp iex_session(b) do
    chunks = String.split(b.text, ~r/^iex> /m, trim: true)

    for chunk <- chunks do
      [input | shown] = String.split(chunk, "\n", parts: 2)
      {_, _} = Code.eval_string(input)
      shown = Enum.join(shown)
      if shown != "", do: assert({:ok, _} = Code.string_to_quoted(shown), "README.md:#{b.line}")
    end
  end
end
