// makefile() against CPython 3.11's socket.makefile (SocketIO under
// io.BufferedReader/BufferedWriter/BufferedRWPair, io.TextIOWrapper for text):
// a scripted python3 peer sends the same bytes, cut into the same segments,
// to a CPython client and to a pysock client making the same calls, and every
// call's outcome and every byte the peer receives are compared
// (tests/_makefile_twin.ts). Where pysock deliberately differs, the case pins
// both twins' outcomes and says why.

import {
  assertTwins,
  type Call,
  type Case,
  type Hex,
  type Outcome,
  runTwins,
  send,
  utf8,
  type Value,
} from "./_makefile_twin.ts";

const RB: Call = ["makefile", "rb", {}];
const WB: Call = ["makefile", "wb", {}];
/** A text file as pysock's: UTF-8, bad bytes replaced (README "What differs"). */
const text = (mode = "r", newline?: string | null): Call => [
  "makefile",
  mode,
  { encoding: "utf-8", errors: "replace", ...(newline !== undefined ? { newline } : {}) },
];
const enc = new TextEncoder();

const OK = (ok: Value): Outcome => ({ ok });
/** A call that gave these bytes (UTF-8 of `text`). */
const BYTES = (text: string): Outcome => ({ ok: utf8(text) });
const ERR = (err: string, errno: number | null, msg: string): Outcome => ({ err, errno, msg });
const NONE: Outcome = { ok: null };
const EBADF = (detail?: string): Outcome =>
  ERR("OSError", 9, `[Errno 9] Bad file descriptor${detail ? `: ${detail}` : ""}`);
const TIMED_OUT_OBJECT = ERR("OSError", null, "cannot read from timed out object");
const RESET = ERR("ConnectionResetError", 104, "[Errno 104] Connection reset by peer");

// Why pysock differs, where it deliberately does.
const SHARED_BUFFER = "API.md: makefile shares the socket's read buffer, so what CPython's " +
  "BufferedReader read ahead (and keeps from recv) is recv's";
const NO_LOSS = "API.md: a timed-out call loses no data and the file stays usable " +
  "(CPython, issue #7322: every read after a timeout fails, what it had read is gone)";
const RESET_ORDER = "README (Timeouts lose no data): the bytes before a reset are all returned " +
  "and the reset raised once (CPython's buffered read raises and drops them)";
const CLOSED_FILE = "a closed pysock file fails as a closed socket does, OSError EBADF " +
  "(CPython: ValueError)";
const WRONG_MODE = "a call the mode does not allow is OSError EBADF, as read(2) on a write-only " +
  "descriptor (CPython: io.UnsupportedOperation)";
const UTF8_ONLY = "README: text files decode UTF-8 only and read bad bytes as U+FFFD " +
  "(Python's errors='replace')";
/** What _socket_file.ts says when it refuses an encoding or an error handler. */
const ENCODING = (name: string) =>
  `Cannot make file: encoding "${name}" is not supported: text files are UTF-8; ` +
  "for another encoding, decode a binary file's bytes";
const ERRORS = (name: string) =>
  `Cannot make file: errors "${name}" is not supported: text files read ill-formed UTF-8 ` +
  'as U+FFFD (errors="replace")';

async function check(cases: Case[]): Promise<void> {
  assertTwins(cases, await runTwins(cases));
}

// ------------------------------------------------------------------ binary reads

const BINARY_READS: Case[] = [];
for (const buffering of [-1, 2, 8192]) {
  const rb: Call = ["makefile", "rb", { buffering }];
  BINARY_READS.push(
    {
      name: `rb buffering=${buffering}: read(n) across segments, read(0), read() to EOF`,
      peer: [send("abc"), send("defgh"), send("ij"), ["eof"]],
      client: [rb, ["read", 0, 2], ["read", 0, 0], ["read", 0, 4], ["read", 0], ["read", 0], [
        "read",
        0,
        3,
      ]],
    },
    {
      name: `rb buffering=${buffering}: read(-1) and read(None) read to EOF`,
      peer: [send("xy"), send("z"), ["eof"]],
      client: [rb, ["read", 0, -1], ["read", 0, null], ["read", 0, 5]],
    },
    {
      name: `rb buffering=${buffering}: readline and readline(limit) across segments`,
      peer: [send("one\ntw"), send("o\nthree"), send("\n\nlast"), ["eof"]],
      client: [
        rb,
        ["readline", 0],
        ["readline", 0, 2],
        ["readline", 0, 2],
        ["readline", 0, 100],
        ["readline", 0, 0],
        ["readline", 0, -1],
        ["readline", 0, null],
        ["readline", 0],
        ["readline", 0],
      ],
    },
    {
      name: `rb buffering=${buffering}: iteration gives every line, the last without \\n`,
      peer: [send("a\nbb\n"), send("\nccc"), ["eof"]],
      client: [rb, ["iter", 0], ["iter", 0], ["readline", 0]],
    },
    {
      name: `rb buffering=${buffering}: readlines()`,
      peer: [send("a\nbb\n"), send("\nccc"), ["eof"]],
      client: [rb, ["readlines", 0], ["readlines", 0]],
    },
  );
  for (const hint of [-1, 0, 1, 2, 3, 4, 5, 6, 100]) {
    BINARY_READS.push({
      name: `rb buffering=${buffering}: readlines(${hint}) stops once the lines reach the hint`,
      peer: [send("ab\ncd\n"), send("ef\ngh\n"), ["eof"]],
      client: [rb, ["readlines", 0, hint], ["readline", 0], ["read", 0]],
    });
  }
}

// More than a buffer's worth, in segments that do not line up with anything.
const LONG = Array.from({ length: 400 }, (_, i) => `line ${i} ${"\u00e9".repeat(i % 37)}\n`).join(
  "",
);
const LONG_BYTES = enc.encode(LONG);
const LONG_PEER = [
  ...Array.from(
    { length: Math.ceil(LONG_BYTES.length / 2999) },
    (_, i) => send(LONG_BYTES.subarray(i * 2999, (i + 1) * 2999)),
  ),
  ["eof"],
] as Case["peer"];
BINARY_READS.push({
  name: "rb: reads and lines over more than a buffer's worth of segments",
  peer: LONG_PEER,
  client: [RB, ["read", 0, 10000], ["readline", 0], ["readline", 0, 5], ["readlines", 0, 9000], [
    "read",
    0,
    1,
  ], ["iter", 0]],
});

Deno.test("makefile differential: binary reads give CPython's bytes call for call", async () => {
  await check(BINARY_READS);
});

// -------------------------------------------------------------------- text reads

const TEXT_READS: Case[] = [
  {
    name: "r: read(n) counts characters across segments",
    peer: [send("h\u00e9llo w"), send("\u20acrld\n"), ["eof"]],
    client: [text(), ["read", 0, 3], ["read", 0, 5], ["read", 0, 0], ["read", 0], ["read", 0]],
  },
  {
    name: "r: readline(limit) counts characters, iteration and readlines",
    peer: [send("\u00e9\u00e9\u00e9\n\ud834\udd1ex\ny"), send("z\n"), ["eof"]],
    client: [text(), ["readline", 0, 2], ["readline", 0, 2], ["readline", 0, 1], [
      "iter",
      0,
    ], ["readlines", 0]],
  },
];
for (const hint of [0, 1, 2, 3, 4, 100]) {
  TEXT_READS.push({
    name: `r: readlines(${hint}) counts characters`,
    peer: [send("\u00e9b\nc\u20ac\n"), send("ef\n"), ["eof"]],
    client: [text(), ["readlines", 0, hint], ["readline", 0], ["read", 0]],
  });
}
// A text with 1-, 2-, 3- and 4-byte characters, cut into two segments at every byte.
const MULTI = enc.encode("a\u00e9\u20ac\ud834\udd1e\n\u00e9z\u20ac\n");
for (let cut = 1; cut < MULTI.length; cut++) {
  for (
    const calls of [
      [["read", 0, 1], ["read", 0, 2], ["readline", 0], ["read", 0]],
      [["readline", 0, 3], ["readline", 0, 1], ["readline", 0], ["readline", 0]],
      [["read", 0, 4], ["read", 0, 3], ["read", 0, 1]],
    ] as Call[][]
  ) {
    TEXT_READS.push({
      name: `r: UTF-8 cut after byte ${cut}: ${JSON.stringify(calls)}`,
      peer: [send(MULTI.subarray(0, cut)), send(MULTI.subarray(cut)), ["eof"]],
      client: [text(), ...calls],
    });
  }
}

TEXT_READS.push({
  name: "r: characters and lines over more than a buffer's worth of segments",
  peer: LONG_PEER,
  client: [
    text(),
    ["read", 0, 7000],
    ["readline", 0],
    ["readline", 0, 5],
    [
      "readlines",
      0,
      6000,
    ],
    ["read", 0, 1],
    ["iter", 0],
  ],
});

Deno.test("makefile differential: text reads of UTF-8 cut at every byte are CPython's", async () => {
  await check(TEXT_READS);
});

// Line ends cut at every byte, under every newline setting.
const CRLF = enc.encode("ab\r\ncd\r\r\nef\rg\n\r\nh\r");
const NEWLINE_READS: Case[] = [];
for (const newline of [null, "", "\n", "\r", "\r\n"]) {
  for (let cut = 1; cut < CRLF.length; cut++) {
    NEWLINE_READS.push({
      name: `r newline=${JSON.stringify(newline)}: line ends cut after byte ${cut}, readline`,
      peer: [send(CRLF.subarray(0, cut)), send(CRLF.subarray(cut)), ["eof"]],
      client: [text("r", newline), ...Array(9).fill(["readline", 0]) as Call[]],
    });
    NEWLINE_READS.push({
      name: `r newline=${JSON.stringify(newline)}: line ends cut after byte ${cut}, read(n)`,
      peer: [send(CRLF.subarray(0, cut)), send(CRLF.subarray(cut)), ["eof"]],
      client: [
        text("r", newline),
        ["read", 0, 3],
        ["read", 0, 1],
        ["read", 0, 4],
        [
          "readline",
          0,
          2,
        ],
        ["readline", 0, 1],
        ["read", 0],
      ],
    });
  }
}

Deno.test("makefile differential: line ends cut at every byte, every newline setting", async () => {
  await check(NEWLINE_READS);
});

// -------------------------------------------------------------------- writes
// A sock.sendall between file calls marks, in what the peer receives, which
// of the file's bytes had gone out by then: buffered until flush, close or
// size, exactly as CPython's BufferedWriter (and TextIOWrapper's own chunk
// of pending text in front of it).

const X = (n: number, c = "x") => c.repeat(n);
const b = (s: string): Hex => utf8(s);
const WRITES: Case[] = [];
for (const buffering of [-1, 8192, 16]) {
  const wb: Call = ["makefile", "wb", buffering === -1 ? {} : { buffering }];
  const size = buffering === -1 ? 8192 : buffering;
  WRITES.push(
    {
      name: `wb buffering=${buffering}: writes wait for flush; a sendall in between goes first`,
      peer: [],
      client: [
        wb,
        ["write", 0, b("ab")],
        ["write", 0, b("cd")],
        ["sendall", "|1|"],
        ["flush", 0],
        ["sendall", "|2|"],
        ["flush", 0],
        ["write", 0, b("ef")],
        ["close", 0],
        ["sendall", "|3|"],
        ["close", 0],
        ["closed", 0],
      ],
    },
    {
      name: `wb buffering=${buffering}: a write that exactly fills the buffer waits`,
      peer: [],
      client: [wb, ["write", 0, b(X(size))], ["sendall", "|1|"], ["write", 0, b("y")], [
        "sendall",
        "|2|",
      ]],
    },
    {
      name: `wb buffering=${buffering}: one byte short of the buffer, then one byte, then one`,
      peer: [],
      client: [
        wb,
        ["write", 0, b(X(size - 1))],
        ["sendall", "|1|"],
        ["write", 0, b("y")],
        [
          "sendall",
          "|2|",
        ],
        ["write", 0, b("z")],
        ["sendall", "|3|"],
      ],
    },
    {
      name:
        `wb buffering=${buffering}: an overflowing write sends the buffer, and waits if it fits`,
      peer: [],
      client: [
        wb,
        ["write", 0, b(X(10))],
        ["write", 0, b(X(size - 5, "y"))],
        [
          "sendall",
          "|1|",
        ],
        ["write", 0, b(X(size + 1, "z"))],
        ["sendall", "|2|"],
      ],
    },
  );
}
for (
  const [label, newline] of [
    ["w", undefined],
    ["w newline=None", null],
    ["w newline=''", ""],
    ["w newline='\\n'", "\n"],
    ["w newline='\\r'", "\r"],
    ["w newline='\\r\\n'", "\r\n"],
  ] as [string, string | null | undefined][]
) {
  WRITES.push({
    name: `${label}: writes count characters, translate \\n, wait for flush`,
    peer: [],
    client: [
      text("w", newline),
      ["write", 0, "a\nb\r\n\u00e9\ud834\udd1e\n"],
      [
        "sendall",
        "|1|",
      ],
      ["flush", 0],
      ["sendall", "|2|"],
      ["write", 0, ""],
      ["write", 0, "z"],
      ["close", 0],
    ],
  });
}
WRITES.push(
  {
    name: "w: a text write of 8192 characters waits in both buffers",
    peer: [],
    client: [text("w"), ["write", 0, X(8192)], ["sendall", "|1|"], ["write", 0, "y"], [
      "sendall",
      "|2|",
    ]],
  },
  {
    name: "w: text writes of 5000, 5000 and 9000 characters",
    peer: [],
    client: [
      text("w"),
      ["write", 0, X(5000)],
      ["sendall", "|1|"],
      ["write", 0, X(5000, "y")],
      [
        "sendall",
        "|2|",
      ],
      ["write", 0, X(9000, "z")],
      ["sendall", "|3|"],
    ],
  },
  {
    name: "w: 3-byte characters count as one, the buffers fill by bytes",
    peer: [],
    client: [
      text("w"),
      ["write", 0, X(3000, "\u20ac")],
      ["sendall", "|1|"],
      [
        "write",
        0,
        X(3000, "\u20ac"),
      ],
      ["sendall", "|2|"],
      ["write", 0, X(3000, "\u20ac")],
      ["sendall", "|3|"],
    ],
  },
  {
    // socket.makefile passes no line_buffering to TextIOWrapper: buffering=1
    // is a 1-byte BufferedWriter under a chunk of pending text, which sends
    // what pysock's buffering sends here.
    name: "w buffering=1: not line buffered in CPython's makefile either",
    peer: [],
    client: [
      ["makefile", "w", { encoding: "utf-8", buffering: 1 }],
      ["write", 0, "ab"],
      [
        "sendall",
        "|1|",
      ],
      ["write", 0, "c\nd"],
      ["sendall", "|2|"],
    ],
  },
  {
    name: "wb buffering=0 (unbuffered): each write goes out at once",
    peer: [],
    client: [["makefile", "wb", { buffering: 0 }], ["write", 0, b("ab")], ["sendall", "|1|"], [
      "write",
      0,
      b("cd"),
    ], ["sendall", "|2|"]],
  },
  {
    name: "two write files on one socket send in the order they are flushed",
    peer: [],
    client: [WB, WB, ["write", 0, b("A")], ["write", 1, b("B")], ["flush", 1], ["sendall", "|"], [
      "flush",
      0,
    ]],
  },
  {
    name: "sendall interleaved with writes, flushes, a shutdown and close",
    peer: [],
    client: [
      WB,
      ["sendall", "1"],
      ["write", 0, b("2")],
      ["sendall", "3"],
      ["flush", 0],
      ["write", 0, b("4")],
      ["flush", 0],
      ["sendall", "5"],
      ["write", 0, b("6")],
      ["shutdown", 1],
      ["close", 0],
    ],
  },
);

Deno.test("makefile differential: what the peer receives from writes, and when", async () => {
  await check(WRITES);
});

// ------------------------------------------------------------ rw: both ways

const READ_WRITE: Case[] = [
  {
    name: "rwb: request, flush, response, twice",
    peer: [["await", 4], send("pong\n"), ["await", 4], send("ok\n"), ["eof"]],
    client: [
      ["makefile", "rwb", {}],
      ["write", 0, b("ping")],
      ["flush", 0],
      ["readline", 0],
      [
        "write",
        0,
        b("more"),
      ],
      ["flush", 0],
      ["read", 0],
      ["closed", 0],
    ],
  },
  {
    name: "rw: request, flush, response in text",
    peer: [["await", 5], send("p\u00e9ng\r\n"), ["await", 3], send("ok"), ["eof"]],
    client: [
      text("rw"),
      ["write", 0, "ping\n"],
      ["flush", 0],
      ["readline", 0],
      [
        "write",
        0,
        "m\u00e9",
      ],
      ["flush", 0],
      ["read", 0],
    ],
  },
  {
    name: "rw newline='\\r\\n': writes translate, reads end lines at \\r\\n only",
    peer: [["await", 6], send("a\rb\nc\r\n"), ["eof"]],
    client: [text("rw", "\r\n"), ["write", 0, "ping\n"], ["flush", 0], ["readline", 0], [
      "readline",
      0,
    ]],
  },
  {
    name: "rw: a read does not send the text written before it",
    peer: [send("x\n"), ["eof"]],
    client: [text("rw"), ["write", 0, "unsent"], ["readline", 0], ["sendall", "|"], [
      "close",
      0,
    ]],
  },
];

Deno.test("makefile differential: rw and rwb files write and read on one socket", async () => {
  await check(READ_WRITE);
});

// ------------------------------------------------ sharing the socket's buffer

const SHARED: Case[] = [
  {
    // CPython's unbuffered file reads no further than it must, so it is the
    // oracle for a file that shares the socket's buffer.
    name: "readline, recv, readline (CPython: buffering=0): nothing lost or repeated",
    peer: [send("line1\nline2\n"), ["await", 1], send("tail\n"), ["eof"]],
    client: [
      ["makefile", "rb", { buffering: 0 }],
      ["readline", 0],
      ["recv", 3],
      [
        "sendall",
        "!",
      ],
      ["readline", 0],
      ["readline", 0],
      ["recv", 10],
      ["read", 0],
    ],
  },
  {
    name: "readline, recv, readline (CPython: buffered)",
    peer: [send("line1\nline2\n"), ["await", 1], send("tail\n"), ["eof"]],
    client: [RB, ["readline", 0], ["sendall", "!"], ["recv", 100], ["readline", 0], ["read", 0]],
    differs: {
      3: { cpython: BYTES("tail\n"), pysock: BYTES("line2\n"), why: SHARED_BUFFER },
      4: { cpython: BYTES("line2\n"), pysock: BYTES("tail\n"), why: SHARED_BUFFER },
    },
  },
  {
    name: "text readline, then recv: the rest of the segment is recv's",
    peer: [send("\u00e9\n\u20acx"), ["await", 1], send("y\n"), ["eof"]],
    client: [text(), ["readline", 0], ["sendall", "!"], ["recv", 100], ["readline", 0]],
    differs: {
      3: { cpython: BYTES("y\n"), pysock: BYTES("\u20acx"), why: SHARED_BUFFER },
      4: { cpython: OK("\u20acx"), pysock: OK("y\n"), why: SHARED_BUFFER },
    },
  },
  {
    name: "recv before the file (CPython: buffering=0): the file reads on from there",
    peer: [send("abcdef\n"), send("gh\n"), ["eof"]],
    client: [["recv", 2], ["makefile", "rb", { buffering: 0 }], ["readline", 0], ["recv", 1], [
      "readline",
      0,
    ], ["read", 0]],
  },
  {
    name: "two read files on one socket (CPython: buffering=0): each line once",
    peer: [send("1\n2\n3\n4\n"), ["eof"]],
    client: [
      ["makefile", "rb", { buffering: 0 }],
      ["makefile", "rb", { buffering: 0 }],
      [
        "readline",
        0,
      ],
      ["readline", 1],
      ["readline", 0],
      ["read", 1],
    ],
  },
];

Deno.test("makefile differential: file reads and recv share one buffer", async () => {
  await check(SHARED);
});

// ------------------------------------------------------------- timeouts
// The peer sends the rest only when the client says so: the timeout expires
// on silence, never on a race.

const TIMEOUTS: Case[] = [
  {
    name: "rb: read(n) times out with part of it there; the next reads get it all",
    peer: [send("abc"), ["await", 1], send("de"), ["eof"]],
    client: [
      RB,
      ["settimeout", 0.2],
      ["read", 0, 5],
      ["read", 0, 1],
      ["sendall", "!"],
      [
        "settimeout",
        null,
      ],
      ["read", 0, 5],
      ["recv", 10],
    ],
    differs: {
      3: { cpython: TIMED_OUT_OBJECT, pysock: BYTES("a"), why: NO_LOSS },
      6: { cpython: TIMED_OUT_OBJECT, pysock: BYTES("bcde"), why: NO_LOSS },
      // CPython lost "abc" with its timed-out read.
      7: { cpython: BYTES("de"), pysock: BYTES(""), why: NO_LOSS },
    },
  },
  {
    name: "rb: readline times out with half a line; recv then gets that half",
    peer: [send("ab"), ["await", 1], send("c\n"), ["eof"]],
    client: [RB, ["settimeout", 0.2], ["readline", 0], ["sendall", "!"], ["settimeout", null], [
      "recv",
      10,
    ], ["readline", 0]],
    differs: {
      5: { cpython: BYTES("c\n"), pysock: BYTES("ab"), why: NO_LOSS },
      6: { cpython: TIMED_OUT_OBJECT, pysock: BYTES("c\n"), why: NO_LOSS },
    },
  },
  {
    name: "r: text readline times out with half a character",
    peer: [send([0x61, 0xe2, 0x82]), ["await", 1], send([0xac, 0x0a]), ["eof"]],
    client: [
      text(),
      ["settimeout", 0.2],
      ["readline", 0],
      ["sendall", "!"],
      [
        "settimeout",
        null,
      ],
      ["readline", 0],
      ["read", 0],
    ],
    differs: {
      5: { cpython: TIMED_OUT_OBJECT, pysock: OK("a\u20ac\n"), why: NO_LOSS },
      6: { cpython: TIMED_OUT_OBJECT, pysock: OK(""), why: NO_LOSS },
    },
    // CPython closed with bytes unread, so its peer saw a reset.
    pysockReceived: "!",
  },
  {
    name: "rb: a timed-out read on CPython's unbuffered file fails the same way",
    peer: [["await", 1], send("xyz"), ["eof"]],
    client: [
      ["makefile", "rb", { buffering: 0 }],
      ["settimeout", 0.2],
      ["read", 0, 2],
      [
        "sendall",
        "!",
      ],
      ["settimeout", null],
      ["read", 0, 2],
      ["read", 0],
    ],
    differs: {
      5: { cpython: TIMED_OUT_OBJECT, pysock: BYTES("xy"), why: NO_LOSS },
      6: { cpython: TIMED_OUT_OBJECT, pysock: BYTES("z"), why: NO_LOSS },
    },
    pysockReceived: "!",
  },
  {
    name: "rb, non-blocking: nothing there, then what is there",
    peer: [["await", 1], send("xyz"), ["await", 1], ["eof"]],
    client: [
      RB,
      ["settimeout", 0],
      ["read", 0, 2],
      ["sendall", "!"],
      ["settimeout", null],
      [
        "recv",
        1,
      ],
      ["settimeout", 0],
      ["read", 0, 5],
      ["sendall", "!"],
    ],
    differs: {
      2: {
        cpython: NONE,
        pysock: ERR("BlockingIOError", 11, "[Errno 11] Resource temporarily unavailable"),
        why: "README (Smaller differences): BlockingIOError where Python returns None",
      },
    },
  },
];

Deno.test("makefile differential: a read that times out, and the reads after it", async () => {
  await check(TIMEOUTS);
});

// ------------------------------------------------------- close and misuse

const closedFile = (cpython: Outcome) => ({
  cpython,
  pysock: EBADF("file is closed"),
  why: CLOSED_FILE,
});
const IO_ON_CLOSED = ERR("ValueError", null, "I/O operation on closed file.");
const wrongMode = (cpython: string, what: string) => ({
  cpython: ERR("UnsupportedOperation", null, cpython),
  pysock: EBADF(`file not open for ${what}`),
  why: WRONG_MODE,
});
const MODES =
  "pysock takes r, w, rw, wr, each with a trailing b (CPython: any of the letters r, w, b)";

const CLOSING: Case[] = [
  {
    name: "file.close() leaves the socket open; double close; calls on the closed file",
    peer: [send("ab\ncd\n"), ["eof"]],
    client: [
      RB,
      ["closed", 0],
      ["readline", 0],
      ["close", 0],
      ["closed", 0],
      ["close", 0],
      [
        "recv",
        10,
      ],
      ["read", 0],
      ["readline", 0],
      ["readlines", 0],
      ["iter", 0],
      ["write", 0, utf8("x")],
      [
        "flush",
        0,
      ],
    ],
    differs: {
      6: { cpython: BYTES(""), pysock: BYTES("cd\n"), why: SHARED_BUFFER },
      7: closedFile(ERR("ValueError", null, "read of closed file")),
      8: closedFile(ERR("ValueError", null, "readline of closed file")),
      9: closedFile(IO_ON_CLOSED),
      10: closedFile(IO_ON_CLOSED),
      11: closedFile(ERR("UnsupportedOperation", null, "write")),
      12: closedFile(IO_ON_CLOSED),
    },
  },
  {
    name: "text file: calls after close",
    peer: [["eof"]],
    client: [
      text("rw"),
      ["close", 0],
      ["read", 0],
      ["readline", 0],
      ["write", 0, "x"],
      [
        "flush",
        0,
      ],
      ["closed", 0],
      ["close", 0],
    ],
    differs: Object.fromEntries([2, 3, 4, 5].map((k) => [k, closedFile(IO_ON_CLOSED)])),
  },
  {
    name: "sock.close() while the file is open: the file and recv read on until the file closes",
    peer: [send("ab\ncd\nef"), ["eof"]],
    client: [RB, ["sock_close"], ["readline", 0], ["recv", 3], ["readline", 0], ["close", 0], [
      "recv",
      3,
    ], ["makefile", "rb", {}]],
    differs: {
      3: { cpython: BYTES(""), pysock: BYTES("cd\n"), why: SHARED_BUFFER },
      4: { cpython: BYTES("cd\n"), pysock: BYTES("ef"), why: SHARED_BUFFER },
      7: {
        cpython: NONE,
        pysock: EBADF(),
        why: "close() was called: a new file is refused as any call on a closed socket " +
          "(CPython's descriptor stays open while the first file holds it)",
      },
    },
  },
  {
    name: "sock.close() while a write file is open: closing the file flushes, then closes",
    peer: [],
    client: [WB, ["write", 0, utf8("late")], ["sock_close"], ["sendall", "x"], ["close", 0], [
      "sendall",
      "y",
    ]],
  },
  {
    name: "reading a write-only file and writing a read-only one",
    peer: [send("ab"), ["eof"]],
    client: [
      WB,
      RB,
      text("w"),
      text("r"),
      ["read", 0],
      ["readline", 0],
      ["write", 1, utf8("x")],
      [
        "read",
        2,
      ],
      ["write", 3, "x"],
      ["read", 1],
    ],
    differs: {
      4: wrongMode("read", "reading"),
      5: wrongMode("read", "reading"),
      6: wrongMode("write", "writing"),
      7: wrongMode("not readable", "reading"),
      8: wrongMode("not writable", "writing"),
    },
  },
  {
    name: "a string to a binary file, bytes to a text file",
    peer: [],
    client: [WB, text("w"), ["write", 0, "str"], ["write", 1, utf8("bytes")], ["flush", 0], [
      "flush",
      1,
    ]],
    differs: {
      2: {
        cpython: ERR("TypeError", null, "a bytes-like object is required, not 'str'"),
        pysock: OK(3),
        why: "write takes bytes or a string (UTF-8) in either mode, as send does (its JSDoc)",
      },
      3: {
        cpython: ERR("TypeError", null, "write() argument must be str, not bytes"),
        pysock: OK(5),
        why: "write takes bytes or a string in either mode, as send does (its JSDoc)",
      },
    },
    pysockReceived: "strbytes",
  },
  {
    name: "sizes that are no integers",
    peer: [send("ab\n"), ["eof"]],
    client: [RB, ["read", 0, 1.5], ["readline", 0, "x"], ["readlines", 0, "x"], ["read", 0]],
  },
  {
    name: "modes and newline arguments",
    peer: [],
    client: [
      ["makefile", "x", {}],
      ["makefile", "rb", { newline: "\n" }],
      ["makefile", "r", { newline: "x" }],
      ["makefile", "rbw", {}],
      ["makefile", "br", {}],
      ["makefile", "rwb", {}],
      ["makefile", "w", {}],
    ],
    differs: {
      1: {
        cpython: NONE,
        pysock: ERR(
          "RangeError",
          null,
          "Cannot make file: binary mode doesn't take a newline argument",
        ),
        why: "a newline in binary mode is refused (CPython ignores it; cpython_socket_files_test)",
      },
      3: {
        cpython: NONE,
        pysock: ERR(
          "RangeError",
          null,
          'Cannot make file: invalid mode "rbw" (use r, w, rw, with b)',
        ),
        why: MODES,
      },
      4: {
        cpython: NONE,
        pysock: ERR(
          "RangeError",
          null,
          'Cannot make file: invalid mode "br" (use r, w, rw, with b)',
        ),
        why: MODES,
      },
    },
  },
];

Deno.test("makefile differential: close, closed, and calls a file cannot serve", async () => {
  await check(CLOSING);
});

// ------------------------------------------------- resets and the end of stream

const RESETS: Case[] = [
  {
    name: "rb: readline gets the lines before a reset, the partial one too, then the error",
    peer: [send("ab\ncd"), ["rst"]],
    client: [RB, ["readline", 0], ["readline", 0], ["readline", 0], ["readline", 0]],
    differs: {
      2: { cpython: RESET, pysock: BYTES("cd"), why: RESET_ORDER },
      3: { cpython: BYTES(""), pysock: RESET, why: RESET_ORDER },
    },
  },
  {
    name: "rb: read() with bytes before a reset",
    peer: [send("abcd"), ["rst"]],
    client: [RB, ["read", 0], ["read", 0]],
    differs: { 2: { cpython: BYTES(""), pysock: BYTES("abcd"), why: RESET_ORDER } },
  },
  {
    name: "rb: read(n) with fewer bytes before a reset",
    peer: [send("abcd"), ["rst"]],
    client: [RB, ["read", 0, 10], ["read", 0, 10]],
    differs: { 2: { cpython: BYTES(""), pysock: BYTES("abcd"), why: RESET_ORDER } },
  },
  {
    name: "r: text read() with bytes before a reset",
    peer: [send("ab\u00e9"), ["rst"]],
    client: [text(), ["read", 0], ["read", 0]],
    differs: { 2: { cpython: OK(""), pysock: OK("ab\u00e9"), why: RESET_ORDER } },
  },
  {
    name: "rb: a reset after whole lines: readlines",
    peer: [send("a\nb\n"), ["rst"]],
    client: [RB, ["readlines", 0], ["readlines", 0]],
  },
];

Deno.test("makefile differential: a peer that resets after sending", async () => {
  await check(RESETS);
});

// ------------------------------------------------------ encodings and options

const ILL_FORMED = [0x61, 0xff, 0x62, 0xe2, 0x82, 0x0a, 0xed, 0xa0, 0x80, 0x0a];
const ENCODINGS: Case[] = [
  {
    name: "r errors=replace: ill-formed UTF-8 as CPython replaces it",
    peer: [send(ILL_FORMED), ["eof"]],
    client: [text(), ["readline", 0], ["readline", 0], ["read", 0]],
  },
  {
    name: "r errors=strict (CPython's default): pysock replaces",
    peer: [send(ILL_FORMED), ["eof"]],
    client: [["makefile", "r", { encoding: "utf-8" }], ["readline", 0], ["readline", 0]],
    differs: {
      1: {
        cpython: ERR(
          "UnicodeDecodeError",
          null,
          "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
        ),
        pysock: OK("a\ufffdb\ufffd\n"),
        why: UTF8_ONLY,
      },
      2: { cpython: OK(""), pysock: OK("\ufffd\ufffd\ufffd\n"), why: UTF8_ONLY },
    },
  },
  {
    name: "r encoding=UTF8: another spelling of UTF-8",
    peer: [send("caf\u00e9\n"), ["eof"]],
    client: [["makefile", "r", { encoding: "UTF8", errors: "replace" }], ["read", 0]],
  },
  {
    // TextEncoder writes a lone surrogate as U+FFFD, as sendall does with a
    // string (CPython: "?" with errors="replace", UnicodeEncodeError by default).
    name: "w: a lone surrogate is written as U+FFFD",
    peer: [],
    client: [text("w"), ["write", 0, "a\ud800b"], ["close", 0]],
    pysockReceived: "a\ufffdb",
  },
];
// Python's makefile arguments pysock cannot honour: refused, never ignored.
for (
  const [label, mode, kwargs, message] of [
    ["encoding=latin-1", "r", { encoding: "latin-1" }, ENCODING("latin-1")],
    ["encoding=utf-16", "w", { encoding: "utf-16" }, ENCODING("utf-16")],
    ["errors=ignore", "r", { errors: "ignore" }, ERRORS("ignore")],
    ["errors=surrogateescape", "r", { errors: "surrogateescape" }, ERRORS("surrogateescape")],
  ] as [string, string, Record<string, Value>, string][]
) {
  ENCODINGS.push({
    name: `makefile("${mode}", ${label}): CPython takes it, pysock refuses it`,
    peer: [],
    client: [["makefile", mode, kwargs]],
    differs: {
      0: {
        cpython: NONE,
        pysock: ERR("RangeError", null, message),
        why: "README: text files are UTF-8 with errors='replace'; an argument pysock " +
          "cannot honour is refused, never a silent no-op",
      },
    },
  });
}
ENCODINGS.push(
  {
    name: "makefile('wb', 0): Python's positional buffering, unbuffered",
    peer: [],
    client: [["makefile", "wb", { buffering: 0 }, 0], ["write", 0, b("ab")], ["sendall", "|"]],
  },
  {
    name: "makefile('rb', encoding=..., errors=...): a binary file ignores them, in both",
    peer: [send("ab"), ["eof"]],
    client: [["makefile", "rb", { encoding: "latin-1", errors: "strict" }], ["read", 0]],
  },
  {
    name: "makefile('r', buffering=0): unbuffered text is refused by both",
    peer: [],
    client: [["makefile", "r", { buffering: 0 }]],
  },
);

Deno.test("makefile differential: encodings, error handlers and arguments pysock has not", async () => {
  await check(ENCODINGS);
});
