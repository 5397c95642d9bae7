import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import {
  parseDeployArgs,
  parseMigrateArgs,
  parseRestoreArgs,
  parseSaveArgs,
  parseVmArgs,
  unquote,
} from "./args.ts";

Deno.test("parseVmArgs() accepts the seed's three arguments", () => {
  assert.deepEqual(parseVmArgs("poll", ["i-0abc", "aws", "42"]), {
    deployId: "i-0abc",
    host: "aws",
    vmId: 42,
  });
});

Deno.test("parseVmArgs() accepts the trailing host one_vmm_sh appends", () => {
  assert.deepEqual(parseVmArgs("shutdown", ["i-0abc", "aws", "7", "aws"]), {
    deployId: "i-0abc",
    host: "aws",
    vmId: 7,
  });
});

Deno.test("parseVmArgs() removes the single quotes of OpenNebula 5.x", () => {
  assert.deepEqual(parseVmArgs("cancel", ["'i-0abc'", "'aws'", "'7'", "aws"]), {
    deployId: "i-0abc",
    host: "aws",
    vmId: 7,
  });
});

Deno.test("parseVmArgs() rejects a wrong number of arguments with a usage line", () => {
  assert.throws(
    () => parseVmArgs("poll", ["i-0abc"]),
    new InvalidInputError(
      "Wrong number of arguments for poll: got 1, expected 3 or 4. Usage: poll <deploy_id> <host> <vmid> [<host>]",
    ),
  );
  assert.throws(() => parseVmArgs("poll", ["a", "b", "1", "b", "extra"]), InvalidInputError);
});

Deno.test("parseVmArgs() rejects an empty deploy id and a non-numeric VM id", () => {
  assert.throws(
    () => parseVmArgs("poll", ["''", "aws", "1"]),
    /Argument <deploy_id> of poll is empty/,
  );
  assert.throws(() => parseVmArgs("poll", ["i-1", "aws", "x1"]), /Invalid VM id "x1"/);
  assert.throws(() => parseVmArgs("poll", ["i-1", "aws", "-1"]), /Invalid VM id "-1"/);
});

Deno.test("parseDeployArgs() reads the deployment file path", () => {
  assert.deepEqual(parseDeployArgs(["/var/lib/one/vms/38/deployment.0", "ec2", "38", "ec2"]), {
    deploymentFile: "/var/lib/one/vms/38/deployment.0",
    host: "ec2",
    vmId: 38,
  });
});

Deno.test("unquote() removes one pair of matching quotes only", () => {
  assert.equal(unquote("'a'"), "a");
  assert.equal(unquote('"a"'), "a");
  assert.equal(unquote("'a"), "'a");
  assert.equal(unquote("a'b'"), "a'b'");
});

Deno.test("parseSaveArgs() reads the checkpoint file after the deploy id", () => {
  assert.deepEqual(
    parseSaveArgs("save", ["i-0abc", "/var/lib/one/datastores/0/7/checkpoint", "aws", "7", "aws"]),
    {
      deployId: "i-0abc",
      checkpointFile: "/var/lib/one/datastores/0/7/checkpoint",
      host: "aws",
      vmId: 7,
    },
  );
});

Deno.test("parseRestoreArgs() tells the 3.2 form from the 4.x form", () => {
  const legacy = { checkpointFile: "/c", host: "aws", vmId: 7 };
  assert.deepEqual(parseRestoreArgs(["/c", "aws", "7"]), legacy);
  assert.deepEqual(parseRestoreArgs(["/c", "aws", "7", "aws"]), legacy);
  const modern = { checkpointFile: "/c", host: "aws", deployId: "i-0abc", vmId: 7 };
  assert.deepEqual(parseRestoreArgs(["/c", "aws", "i-0abc", "7"]), modern);
  assert.deepEqual(parseRestoreArgs(["/c", "'aws'", "'i-0abc'", "'7'", "aws"]), modern);
  assert.throws(() => parseRestoreArgs(["/c", "aws"]), /Wrong number of arguments for restore/);
  assert.throws(() => parseRestoreArgs(["/c", "aws", "i-1", "x", "aws"]), /Invalid VM id "x"/);
});

Deno.test("parseMigrateArgs() reads the destination before the source host", () => {
  assert.deepEqual(parseMigrateArgs(["i-0abc", "aws-eu", "aws-us", "7", "aws-us"]), {
    deployId: "i-0abc",
    destinationHost: "aws-eu",
    host: "aws-us",
    vmId: 7,
  });
});
