/**
 * The layers of the driver point one way (README, "Development"): actions → provider-neutral
 * lib → providers. This test reads every module's imports and fails on one that points back.
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

/** Every non-test module under a directory, as paths relative to the repository. */
async function modules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "testdata") found.push(...await modules(path));
    else if (entry.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts")) found.push(path);
  }
  return found;
}

/** The repository paths a module imports (static, re-exported and dynamic), local ones only. */
async function importsOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}${path}`);
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    m[1]!
  );
  return specifiers.map((s) => new URL(s, `file://${ROOT}${path}`).pathname.slice(ROOT.length));
}

/** What each layer may not import, by path prefix; `except` lists the files allowed to. */
const RULES: { layer: string; forbidden: string; except?: string[] }[] = [
  { layer: "lib/ec2/", forbidden: "lib/opennebula/" },
  { layer: "lib/ec2/", forbidden: "lib/one_cloud/" },
  { layer: "lib/ec2/", forbidden: "actions/" },
  // The partner cloud speaks OpenNebula's API, but it is a provider: the local oned's side
  // (arguments, action data, the local oned's credentials) is not its business.
  { layer: "lib/one_cloud/", forbidden: "lib/opennebula/" },
  { layer: "lib/one_cloud/", forbidden: "lib/ec2/" },
  { layer: "lib/one_cloud/", forbidden: "actions/" },
  { layer: "lib/opennebula/", forbidden: "lib/ec2/" },
  { layer: "lib/opennebula/", forbidden: "lib/one_cloud/" },
  { layer: "lib/opennebula/", forbidden: "actions/" },
  // The neutral lib reaches a provider only through the registry of provider kinds.
  { layer: "lib/", forbidden: "lib/ec2/", except: ["lib/provider_kinds.ts"] },
  { layer: "lib/", forbidden: "lib/one_cloud/", except: ["lib/provider_kinds.ts"] },
  // Only the program's entry point and its table of actions sit above the actions.
  { layer: "lib/", forbidden: "actions/", except: ["lib/action_table.ts", "lib/driver_main.ts"] },
];

/** The layer of a module: `lib/ec2/`, `lib/one_cloud/`, `lib/opennebula/`, or the neutral `lib/`. */
function layerOf(path: string): string {
  return ["lib/ec2/", "lib/one_cloud/", "lib/opennebula/"].find((layer) =>
    path.startsWith(layer)
  ) ?? "lib/";
}

Deno.test("lib/ec2, lib/one_cloud and lib/opennebula do not import each other, and lib reaches providers only through the registry", async () => {
  const wrong: string[] = [];
  for (const path of await modules("lib")) {
    const rules = RULES.filter((r) => r.layer === layerOf(path) && !r.except?.includes(path));
    for (const target of await importsOf(path)) {
      if (rules.some((r) => target.startsWith(r.forbidden))) {
        wrong.push(`${path} imports ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the layer check sees a module's static and dynamic imports", async () => {
  const imports = await importsOf("lib/end_vm.ts");
  assert.ok(imports.includes("lib/providers.ts"), imports.join(", "));
  assert.ok(imports.includes("lib/opennebula/oned_lcm.ts"), imports.join(", "));
});
