// What each transport provides to the scenarios (bench/many/server.ts, client.ts): the server's side and a
// client's side of one part, already connected.
import type { MaybePromise } from '../transports/types.js';
import type { ClientHandle, ServerLink } from './control.js';
import type { StreamChecker } from './stamps.js';
import type { GroupSpec, PartSpec } from './types.js';

export interface ServerSetup {
  part: PartSpec;
  clients: ClientHandle[];
  spec: GroupSpec;
}

export interface ServerSide {
  /** What the transport really was, for the report. */
  detail: string;
  /** fan-in: receives and checks every client's messages of the repetition (until checker.done). */
  receiveAll?(checker: StreamChecker): MaybePromise<unknown>;
  /** request/response: receives and checks every client's requests of the repetition, answering each with its bytes. */
  serveAll?(checker: StreamChecker): MaybePromise<unknown>;
  /** fan-out: one message to every client. */
  publish?(m: Uint8Array): MaybePromise<void>;
  /** After the clients closed their ends. */
  close(): MaybePromise<void>;
}

export interface ClientSetup {
  part: PartSpec;
  index: number;
  clients: number;
  extra: Record<string, unknown>;
  link: ServerLink;
}

export interface ClientSide {
  send?(m: Uint8Array): MaybePromise<void>;
  /** The next message from the server; the view is valid until the next receive() or release(). */
  receive?(): MaybePromise<Uint8Array>;
  /** Done with the view receive() returned (a Topic subscriber reads in place). */
  release?(): void;
  /** Whether receive() hands out the message where it lies in shared memory (read every byte in place). */
  inPlace?: boolean;
  close(): MaybePromise<void>;
}
