// A short seeded fuzz run (a few seconds) of every target in
// fuzz/_targets.ts against its reference implementation; `deno task fuzz`
// runs 1,000,000 inputs. A failure prints the seed that replays it:
// `deno task fuzz --target <name> --seed <seed> --inputs 1`.

import { SHUT_WR } from "../mod.ts";
import {
  checkRecvUntil,
  delimitedCase,
  prng,
  runTarget,
  type Target,
  TARGETS,
} from "../fuzz/_targets.ts";
import { pair } from "./_helpers.ts";

/** Inputs per target in the quick run: a second or two each. */
const QUICK: Record<string, number> = {
  "MessageDecoder": 30_000,
  "recvMsg": 8_000,
  "recvMsgs": 6_000,
  "recvMsgBatches": 6_000,
  "recvUntil/recvExactly": 16_000,
  "address parsing": 60_000,
};

for (const target of TARGETS) {
  Deno.test(`fuzz: ${target.name} agrees with the reference on ${QUICK[target.name]} seeded inputs`, async () => {
    // A fixed seed, away from the long run's default, so the quick run adds coverage.
    await runTarget(target as Target, 0x7e57_0000, QUICK[target.name]);
  });
}

Deno.test("fuzz: recvUntil and recvExactly over real loopback sockets agree with the reference on 1500 inputs", async () => {
  for (let i = 0; i < 1500; i++) {
    const random = prng(0x50c7_0000 + i);
    const c = delimitedCase(random);
    await using p = await pair();
    const sending = (async () => {
      for (const chunk of c.chunks) await p.client.sendall(chunk);
      p.client.shutdown(SHUT_WR);
    })();
    await checkRecvUntil(random, c, p.conn);
    await sending;
  }
});
