/**
 * `deno task install`: runs the installer the build put into `dist/` (`dist/install.sh`, plain
 * POSIX sh), so that installing from a checkout and installing from a copied `dist/` are one and
 * the same code. `--dist` picks another build; every other option goes to `install.sh` as is.
 *
 * Usage: `deno task install --help`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCli } from "./cli.ts";

/** install.sh's own usage text, read from its source so that the two never differ. */
const INSTALLER_USAGE = (await Deno.readTextFile(new URL("./dist_install.sh", import.meta.url)))
  .match(/^USAGE='([^]*?)'\n/m)?.[1]?.replaceAll(`'"'"'`, "'") ?? "";

const USAGE = `Usage: deno task install [--dist DIR] [OPTION...]

Runs DIR/install.sh (dist/ by default), the installer "deno task build" writes there, with the
other options: the front-end needs only that directory ("sh dist/install.sh --help" says the same
without Deno). install.sh's own usage:

${INSTALLER_USAGE}`;

const { values } = parseCli("install", USAGE, () =>
  parseArgs({
    args: Deno.args,
    options: {
      dist: { type: "string", default: new URL("../dist", import.meta.url).pathname },
      remotes: { type: "string" },
      name: { type: "string" },
      host: { type: "string" },
      im: { type: "string" },
      owner: { type: "string" },
      "runtime-dir": { type: "string" },
      opennebula: { type: "string" },
      "in-tree": { type: "boolean" },
      rollback: { type: "boolean" },
      force: { type: "boolean" },
      "not-opennebula": { type: "boolean" },
    },
  }));

const installer = `${values.dist}/install.sh`;
try {
  await Deno.stat(installer);
} catch {
  console.error(`Cannot install: ${installer} does not exist; run "deno task build" first`);
  Deno.exit(1);
}
const passed: string[] = [];
for (const [key, value] of Object.entries(values)) {
  if (key === "dist" || value === undefined || value === false) continue;
  passed.push(`--${key}`, ...(value === true ? [] : [value]));
}
const { code } = await new Deno.Command("sh", { args: [installer, ...passed] }).spawn().status;
Deno.exit(code);
