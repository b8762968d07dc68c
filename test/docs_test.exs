defmodule Vigil.DocsTest do
  # The documentation that ships: every public module has a module doc and every function it
  # exports has a doc. Public are the Elixir modules without `@moduledoc false` (the Mix tasks
  # included) and the Erlang modules without `@private`; a function with `@doc false` in Elixir
  # is hidden on purpose. Private Erlang modules need a module `@doc` for their readers, not
  # docs on their callbacks. The Erlang docs are read as edoc makes them (EEP 48 chunks).
  use ExUnit.Case, async: true

  @src Path.expand("../src", __DIR__)

  defp app_modules, do: Application.spec(:vigil, :modules)

  defp elixir?(m), do: String.starts_with?(Atom.to_string(m), "Elixir.")

  test "every module of the app is checked here" do
    erl =
      for f <- Path.wildcard(Path.join(@src, "*.erl")),
          do: String.to_atom(Path.basename(f, ".erl"))

    assert Enum.sort(Enum.reject(app_modules(), &elixir?/1)) == Enum.sort(erl)
    assert Mix.Tasks.Vigil.Gen.Unit in app_modules()
  end

  test "every public Elixir module and function has a doc" do
    missing =
      for m <- app_modules(),
          elixir?(m),
          {:docs_v1, _, _, _, mdoc, _, entries} = Code.fetch_docs(m),
          mdoc != :hidden,
          problem <- elixir_missing(m, mdoc, entries),
          do: problem

    assert missing == [], "no doc: " <> Enum.join(missing, ", ")
  end

  defp elixir_missing(m, mdoc, entries) do
    mod = if mdoc == :none, do: ["#{inspect(m)} (@moduledoc)"], else: []

    funs =
      for {{kind, f, a}, _, _, :none, _} <- entries,
          kind in [:function, :macro],
          do: "#{inspect(m)}.#{f}/#{a}"

    mod ++ funs
  end

  @tag :tmp_dir
  test "every public Erlang module and exported function has edoc", %{tmp_dir: dir} do
    files = Path.wildcard(Path.join(@src, "*.erl")) |> Enum.map(&String.to_charlist/1)

    opts = [
      doclet: :edoc_doclet_chunks,
      layout: :edoc_layout_chunks,
      dir: String.to_charlist(dir),
      preprocess: true
    ]

    # Elixir 1.15 and later keep only the project's applications on the code path (and OTP 26's
    # code:lib_dir/1 looks only there): edoc and what it uses are taken from OTP's root, and edoc
    # is called through apply/3 so the compiler does not look for it.
    for app <- [:edoc, :xmerl, :syntax_tools] do
      [ebin | _] =
        Path.join([to_string(:code.root_dir()), "lib", "#{app}-*", "ebin"])
        |> Path.wildcard()
        |> Enum.sort(:desc)

      true = :code.add_patha(String.to_charlist(ebin))
    end

    :ok = apply(:edoc, :files, [files, opts])

    missing =
      for f <- files,
          m = String.to_atom(Path.basename(f, ".erl")),
          problem <- erlang_missing(m, dir),
          do: problem

    assert missing == [], "no edoc: " <> Enum.join(missing, ", ")
  end

  defp erlang_missing(m, dir) do
    {:docs_v1, _, _, _, mdoc, _, entries} =
      Path.join([dir, "chunks", "#{m}.chunk"]) |> File.read!() |> :erlang.binary_to_term()

    documented = for {{:function, f, a}, _, _, %{"en" => _}, _} <- entries, do: {f, a}
    private = mdoc == :hidden

    cond do
      private and private_doc?(m) ->
        []

      private ->
        ["#{m} (@doc of the module)"]

      not is_map_key(mdoc, "en") ->
        ["#{m} (@doc of the module)"]

      true ->
        for {f, a} <- m.module_info(:exports),
            f != :module_info,
            {f, a} not in documented,
            do: "#{m}:#{f}/#{a}"
    end
  end

  # edoc hides a @private module's doc: the source must still say what the module is for.
  defp private_doc?(m) do
    Path.join(@src, "#{m}.erl") |> File.read!() |> String.contains?("%% @doc ")
  end
end
