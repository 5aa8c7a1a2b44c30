// Many senders, one receiver, over one System V segment: a lane (a channel ring) per sender.
//
//   layout.ts   the segment: header, lanes, rings (docs/design/many-processes.md)
//   open.ts     Mailbox.create (the header) and Mailbox.connect (the header checked, a lane claimed)
//   site.ts     the receiving end's own words: its wake-up cell, closed, corrupted
//   lanes.ts    the receiving end's ring part: adopting, round robin, freeing the lanes of senders that left
//   mailbox.ts  Mailbox, the receiving end's calls; sender.ts: MailboxSender, a lane's producer
export { Mailbox, type MailboxMessage, type MailboxReceipt } from './mailbox.js';
export { MailboxSender } from './sender.js';
export type { MailboxCreateOptions, MailboxConnectOptions } from './open.js';
