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

const USAGE = `Usage: deno task install [--dist DIR] [--remotes DIR] [--name NAME] [--host HOST]
                         [--im monitord|legacy|none] [--force] [--not-opennebula] [--owner USER]
                         [--runtime-dir DIR]
       deno task install --rollback --runtime-dir DIR [--name NAME]

Runs DIR/install.sh (dist/ by default), the installer "deno task build" writes there; the
front-end needs only that directory: "sh dist/install.sh --help" says the same without Deno.

  --dist DIR         the build to install (dist)
  --remotes DIR      OpenNebula's remotes directory ($ONE_REMOTES, else /var/lib/one/remotes)
  --name NAME        the driver name; must be the one dist/ was built with (the default)
  --host HOST        host name used in the printed onehost command (aws-us-east-1)
  --im monitord      OpenNebula 5.12+ host probes: im/NAME.d and im/NAME-probes.d (default)
  --im legacy        OpenNebula 4.4-5.10 host probe: im/NAME.d/poll
  --im none          no host probes (the dummy IM reports the host)
  --force            move directories one-hybrid did not install to NAME.backup-<UTC time>
                     instead of refusing
  --not-opennebula   install into a directory that does not look like OpenNebula's remotes
                     (created if missing)
  --owner USER       when run as root, give the installed files to USER (oneadmin, if it exists)
  --runtime-dir DIR  keep the driver program in DIR/NAME/<build>/ (e.g. /usr/lib/one-hybrid),
                     outside the remotes tree; remotes/vmm/NAME/.driver links to DIR/NAME/current,
                     which each install switches to its build, the earlier ones kept beside it
  --rollback         switch DIR/NAME/current back to the build it pointed to before the last
                     switch (the remotes directory is not touched)

Exit status: 0 done, 1 refused (nothing changed), 2 bad command line.`;

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
