import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { parseActionData, readActionData } from "./action_data.ts";

const DATA =
  `<VMM_DRIVER_ACTION_DATA><HOST>aws</HOST><MIGR_HOST/><DEPLOY_ID>i-0123456789abcdef0</DEPLOY_ID>
<CHECKPOINT_FILE>/var/lib/one/datastores/0/7/checkpoint</CHECKPOINT_FILE>
<VM><ID>7</ID><LCM_STATE>18</LCM_STATE><STIME>1000</STIME>
<HISTORY_RECORDS><HISTORY><SEQ>0</SEQ><STIME>1100</STIME></HISTORY><HISTORY><SEQ>1</SEQ><STIME>1200</STIME></HISTORY></HISTORY_RECORDS>
</VM></VMM_DRIVER_ACTION_DATA>`;

Deno.test("parseActionData() reads host, deploy id, checkpoint file, VM id and LCM state", () => {
  assert.deepEqual(parseActionData(DATA), {
    host: "aws",
    deployId: "i-0123456789abcdef0",
    checkpointFile: "/var/lib/one/datastores/0/7/checkpoint",
    vmId: 7,
    lcmState: 18,
    deployedAt: 1200,
  });
});

Deno.test("parseActionData() falls back to the VM's STIME without history", () => {
  assert.equal(
    parseActionData("<VMM_DRIVER_ACTION_DATA><VM><STIME>99</STIME></VM></VMM_DRIVER_ACTION_DATA>")
      .deployedAt,
    99,
  );
});

Deno.test("readActionData() decodes base64 stdin and ignores what it cannot read", async () => {
  assert.equal((await readActionData(() => Promise.resolve(btoa(DATA))))?.lcmState, 18);
  assert.equal(await readActionData(() => Promise.resolve("")), undefined);
  assert.equal(await readActionData(() => Promise.resolve("garbage!")), undefined);
  assert.equal(await readActionData(() => Promise.resolve("<VM><ID>")), undefined);
});

Deno.test("readActionData() fails on stdin over its limits rather than guessing there is none", async () => {
  const late = new InvalidInputError("Standard input did not end within 10 s");
  await assert.rejects(readActionData(() => Promise.reject(late)), late);
  assert.equal(await readActionData(() => Promise.resolve("not xml")), undefined);
});

Deno.test("parseActionData() gives the id of each host the VM's history names, the last record winning", () => {
  const migrated = `<VMM_DRIVER_ACTION_DATA><HOST>aws-b</HOST><VM><ID>7</ID><HISTORY_RECORDS>
<HISTORY><SEQ>0</SEQ><HOSTNAME>aws-a</HOSTNAME><HID>3</HID></HISTORY>
<HISTORY><SEQ>1</SEQ><HOSTNAME>aws-b</HOSTNAME><HID>5</HID></HISTORY>
<HISTORY><SEQ>2</SEQ><HOSTNAME>aws-a</HOSTNAME><HID>4</HID></HISTORY>
</HISTORY_RECORDS></VM></VMM_DRIVER_ACTION_DATA>`;
  assert.deepEqual(parseActionData(migrated).hostIds, { "aws-a": 4, "aws-b": 5 });
  assert.equal(parseActionData(DATA).hostIds, undefined);
});
