import {
  closeSync,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
  readFileSync,
  fsyncSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "@vigil/common";
import type { AuditFormat } from "@vigil/config";
import { csvRecordComplete } from "./parse";

/** Where the follower has read to: the file (by inode, which survives renames) and the offset after the last record handed on. */
interface Position {
  inode: number;
  offset: number;
}

export interface FollowerOptions {
  /** The log file the database writes (its current name). */
  file: string;
  format: AuditFormat;
  /** Where the position is kept across restarts (written after each delivery is committed). */
  positionFile: string;
  /** Stores the records; the position moves past them only once this resolves. */
  deliver: (records: string[]) => Promise<void>;
  logger: Logger;
  /** Bytes read per step at most (default 4 MiB). */
  maxReadBytes?: number;
}

/**
 * Follows a database's audit log file, handing on whole records, and keeps its place
 * durably: the position is saved (write, fsync, rename) only after the records before it
 * are committed, so a crash re-reads at most the last delivery, which ingest stores once
 * (records are deduplicated by content). Rotation is followed by inode: when the name
 * points at a new file, the rest of the old one is read first (found by its inode among
 * the directory's files, e.g. `postgresql.json.1`), then the new one from its start. A
 * file truncated in place (copytruncate) is read again from its start.
 *
 * Written here rather than taken from a tail library: none keeps a durable position
 * across restarts and renames, which is the whole point for an audit trail.
 */
export class AuditFileFollower {
  private position: Position | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<number> | undefined;
  /** Records handed on since start (tests and the bench read it). */
  delivered = 0;

  constructor(private readonly options: FollowerOptions) {
    try {
      this.position = JSON.parse(readFileSync(options.positionFile, "utf8")) as Position;
    } catch {
      this.position = undefined; // first start: from the beginning of the file
    }
  }

  /** Polls every `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
    void this.poll();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }

  /** Reads what is new (one step at a time) until the end; resolves with the records delivered. */
  poll(): Promise<number> {
    if (this.busy !== undefined) return this.busy;
    this.busy = this.catchUp()
      .catch((err: unknown) => {
        this.options.logger.warn("reading a database audit log failed; retrying from the saved position", {
          file: this.options.file,
          error: String(err),
        });
        return 0;
      })
      .finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.step();
      if (n < 0) return total;
      total += n;
    }
  }

  /** One read and delivery; -1 when there is nothing more to read now. */
  private async step(): Promise<number> {
    let current: { inode: number; size: number };
    try {
      const st = statSync(this.options.file);
      current = { inode: st.ino, size: st.size };
    } catch {
      return -1; // not there yet (the database has not started logging)
    }
    const pos = this.position ?? { inode: current.inode, offset: 0 };
    if (pos.inode !== current.inode) {
      // Rotated: finish the old file first, if it is still there.
      const old = this.findByInode(pos.inode);
      if (old !== undefined) {
        const n = await this.readFrom(old, pos);
        if (n >= 0) return n;
      } else
        this.options.logger.warn("a rotated database audit log was gone before it was read to its end", {
          file: this.options.file,
          inode: pos.inode,
          offset: pos.offset,
        });
      await this.save({ inode: current.inode, offset: 0 });
      return 0;
    }
    if (current.size < pos.offset) {
      this.options.logger.warn("the database audit log was truncated in place; reading it from its start", {
        file: this.options.file,
      });
      await this.save({ inode: current.inode, offset: 0 });
      return 0;
    }
    return this.readFrom(this.options.file, pos);
  }

  /** Reads whole records from `file` at `pos`, delivers them, saves the new position; -1 at the end. */
  private async readFrom(file: string, pos: Position): Promise<number> {
    const fd = openSync(file, "r");
    let text: string;
    let bytesRead: number;
    try {
      if (fstatSync(fd).ino !== pos.inode) return -1;
      const buf = Buffer.alloc(this.options.maxReadBytes ?? 4 * 1024 * 1024);
      bytesRead = readSync(fd, buf, 0, buf.length, pos.offset);
      text = buf.subarray(0, bytesRead).toString("utf8");
    } finally {
      closeSync(fd);
    }
    if (bytesRead === 0) return -1;
    const { records, consumed } = this.wholeRecords(text);
    if (consumed === 0) {
      if (bytesRead === (this.options.maxReadBytes ?? 4 * 1024 * 1024))
        throw new Error(`a record longer than ${bytesRead} bytes in ${file}`);
      return -1; // only a partial record so far
    }
    if (records.length > 0) await this.options.deliver(records);
    await this.save({ inode: pos.inode, offset: pos.offset + consumed });
    this.delivered += records.length;
    return records.length;
  }

  /** The complete records at the start of `text` and how many bytes they span (through their newline). */
  private wholeRecords(text: string): { records: string[]; consumed: number } {
    const records: string[] = [];
    let end = 0;
    let start = 0;
    let pending = "";
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      // csvlog: a record whose values hold newlines spans lines until its quotes balance.
      const candidate = pending === "" ? line : `${pending}\n${line}`;
      if (this.options.format === "pgaudit-csvlog" && !csvRecordComplete(candidate)) {
        pending = candidate;
        continue;
      }
      pending = "";
      end = start;
      if (candidate.trim() !== "") records.push(candidate.endsWith("\r") ? candidate.slice(0, -1) : candidate);
    }
    return { records, consumed: Buffer.byteLength(text.slice(0, end), "utf8") };
  }

  private findByInode(inode: number): string | undefined {
    const dir = dirname(this.options.file);
    const prefix = basename(this.options.file).split(".")[0] ?? "";
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      try {
        if (statSync(join(dir, name)).ino === inode) return join(dir, name);
      } catch {
        // removed meanwhile
      }
    }
    return undefined;
  }

  private async save(pos: Position): Promise<void> {
    const tmp = `${this.options.positionFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(pos));
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.options.positionFile);
    this.position = pos;
  }
}
