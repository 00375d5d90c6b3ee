/**
 * `npm run fuzz [seconds]`: the decoder and SQL fuzzing of `npm test`, for longer and
 * with fresh seeds. Prints how many inputs each target took and how they ended; exits 1
 * on the first input that ends in anything but a result or a 400 (and prints its seed).
 */
import { InputError } from "@vigil/common";
import { initSqlParser, sqlTables } from "@vigil/facts";
import { decodeTraceRequestJson, decodeTraceRequestProtobuf } from "@vigil/otlp";
import { SQL_CORPUS } from "../packages/facts/src/sql/corpus";
import { jsonCases, protobufCases, sqlCases } from "../test/fuzz/mutate";

const seconds = Number(process.argv[2] ?? 60);
const deadline = Date.now() + seconds * 1000;
await initSqlParser();
const totals = { protobuf: { decoded: 0, refused: 0 }, json: { decoded: 0, refused: 0 }, sql: 0 };
const judge = (target: "protobuf" | "json", seed: number, run: () => unknown): void => {
  try {
    run();
    totals[target].decoded++;
  } catch (err) {
    if (err instanceof InputError && (err.status === 400 || err.status === 413)) {
      totals[target].refused++;
      return;
    }
    process.stderr.write(`fuzz: ${target} input of seed ${seed} ended in ${String(err)}\n`);
    process.exit(1);
  }
};
let rounds = 0;
while (Date.now() < deadline) {
  const seed = Math.floor(Math.random() * 2 ** 31);
  for (const body of protobufCases(seed, 700)) judge("protobuf", seed, () => decodeTraceRequestProtobuf(body));
  for (const body of jsonCases(seed, 500)) judge("json", seed, () => decodeTraceRequestJson(body));
  for (const text of sqlCases(
    seed,
    SQL_CORPUS.map((c) => c.sql),
    500,
  )) {
    sqlTables(text, "postgresql");
    totals.sql++;
  }
  rounds++;
}
process.stdout.write(`fuzz: ${rounds} rounds in ${seconds} s: ${JSON.stringify(totals)}\n`);
