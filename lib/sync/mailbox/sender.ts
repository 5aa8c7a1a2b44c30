// The sending end of a mailbox: the producer of its own lane (a channel ring to the receiver), so it has all of a
// Producer's calls (send, trySend, sendAsync, reserve + commit, writable) with the names of this class in errors.
import { Producer } from '../channel/producer.js';
import type { EndParts } from '../channel/end.js';

/**
 * One sender of a mailbox (from `Mailbox.connect(id)`): a lane of its own, so it never waits for other senders;
 * it waits only when its lane is full (the receiver is behind). EPIPE once the receiver closed or died. close()
 * gives the lane back once the receiver has taken what was sent.
 */
export class MailboxSender extends Producer {
  /** This sender's id in the mailbox (unique for the mailbox's lifetime): what the receiver sees as `message.sender`. */
  readonly sender: number;
  /** The lane this sender holds (0 .. senders - 1). */
  readonly lane: number;

  /** @internal Use Mailbox.connect. */
  constructor(parts: EndParts & { lane: number; sender: number }) {
    super(parts);
    this.sender = parts.sender;
    this.lane = parts.lane;
  }
}
