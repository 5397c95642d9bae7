/**
 * The driver's folders are its layers, and imports point one way: down. This test reads every
 * product module's imports (test modules, doc examples and test fakes under `tests/` aside) and
 * fails on one that points up, sideways into a sibling folder, into `tests/`, or into a
 * provider's folder other than through its `mod.ts`. One rule, no exceptions.
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The layers, bottom first. A module may import its own folder and any folder of a lower layer;
 * folders of one layer do not know each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["lib/util/"], // text, JSON, XML, files, retries, secrets, the output format
  ["lib/core/", "lib/one_xmlrpc/"], // the provider seam and what needs no cloud; OpenNebula's API
  ["lib/opennebula/", "lib/providers/ec2/", "lib/providers/one_cloud/"], // the local oned; clouds
  ["lib/providers/mod.ts"], // the registry of provider kinds
  ["lib/runtime/"], // the action frame; opening a host (settings + kinds → provider)
  ["actions/"], // one module per action, and their table
  ["main.ts"], // the program's entry point
];

/** The folder (or file) of a module, and the rank of its layer; undefined when it has none. */
function placeOf(path: string): { folder: string; rank: number } | undefined {
  for (const [rank, folders] of LAYERS.entries()) {
    const folder = folders.find((f) => f.endsWith("/") ? path.startsWith(f) : path === f);
    if (folder !== undefined) return { folder, rank };
  }
  return undefined;
}

/** Every product module under a directory (tests and testdata left out), repository-relative. */
async function modules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory && ["lib", "actions"].some((top) => path.startsWith(top))) {
      if (entry.name !== "testdata") found.push(...await modules(path));
    } else if (entry.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts")) {
      if (dir !== "" || path === "main.ts") found.push(path);
    }
  }
  return found;
}

/**
 * The repository paths a module imports (static, re-exported and dynamic), local ones only;
 * examples in doc comments are not the module's imports.
 */
async function importsOf(path: string): Promise<string[]> {
  const code = (await Deno.readTextFile(`${ROOT}${path}`)).split("\n")
    .filter((line) => !/^\s*\*/.test(line)).join("\n");
  const specifiers = [...code.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    m[1]!
  );
  return specifiers.map((s) => new URL(s, `file://${ROOT}${path}`).pathname.slice(ROOT.length));
}

/** Why `from` may not import `to`, or undefined when it may. */
function wrongImport(from: string, to: string): string | undefined {
  const source = placeOf(from);
  const target = placeOf(to);
  if (source === undefined) return "is in no layer";
  if (target === undefined) return `imports ${to}, which is in no layer`;
  if (source.folder === target.folder) return undefined;
  const provider = LAYERS[2]!.filter((f) => f.startsWith("lib/providers/"));
  if (provider.includes(target.folder) && to !== `${target.folder}mod.ts`) {
    return `imports ${to}: a provider is entered through its mod.ts`;
  }
  if (target.rank < source.rank) return undefined;
  return `imports ${to} (${target.rank === source.rank ? "a sibling" : "a layer above"})`;
}

Deno.test("every product module sits in a layer and imports only its own folder and layers below", async () => {
  const wrong: string[] = [];
  const all = [...await modules(""), ...await modules("lib"), ...await modules("actions")];
  for (const path of new Set(all)) {
    if (placeOf(path) === undefined) wrong.push(`${path} is in no layer`);
    for (const target of await importsOf(path)) {
      const problem = wrongImport(path, target);
      if (problem !== undefined) wrong.push(`${path} ${problem}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the layer rule refuses imports up, sideways, into tests and past a provider's mod.ts", () => {
  assert.equal(wrongImport("lib/core/config.ts", "lib/util/json.ts"), undefined);
  assert.equal(wrongImport("lib/providers/mod.ts", "lib/providers/ec2/mod.ts"), undefined);
  assert.match(wrongImport("lib/core/config.ts", "lib/providers/mod.ts")!, /a layer above/);
  assert.match(wrongImport("lib/core/provider.ts", "lib/runtime/action.ts")!, /a layer above/);
  assert.match(wrongImport("lib/opennebula/args.ts", "lib/providers/ec2/mod.ts")!, /a sibling/);
  assert.match(wrongImport("lib/providers/ec2/api.ts", "tests/fakes/ec2_api.ts")!, /in no layer/);
  assert.match(wrongImport("lib/runtime/host.ts", "lib/providers/ec2/api.ts")!, /mod\.ts/);
});

Deno.test("the layer check sees a module's static and dynamic imports, not its doc examples", async () => {
  const imports = await importsOf("lib/runtime/end_vm.ts");
  assert.ok(imports.includes("lib/runtime/host.ts"), imports.join(", "));
  assert.ok(imports.includes("lib/opennebula/oned_lcm.ts"), imports.join(", "));
  assert.ok(!(await importsOf("lib/core/config.ts")).includes("lib/providers/mod.ts"));
});
