import { closedError, type SocketError } from "../errors.ts";
import type { Datagram, DatagramAddr } from "../types.ts";
import type { DatagramTransport } from "./transport.ts";

/** What a queued datagram costs beyond its payload, so that a flood of empty ones is bounded too. */
const DATAGRAM_OVERHEAD = 64;

class QueuedError {
  readonly err: SocketError;
  constructor(err: SocketError) {
    this.err = err;
  }
}

export interface Waiter<A extends DatagramAddr> {
  resolve(d: Datagram<A>): void;
  reject(err: unknown): void;
}

/**
 * The receive side of a datagram socket. The runtime delivers datagrams here; each goes to the
 * oldest pending receive, or waits in a queue bounded by `receiveQueueBytes`. A full queue drops
 * the newest datagram and counts it in `dropped`: nothing is lost without a trace, and memory stays
 * bounded when the application stops reading, as the kernel's own buffer does.
 */
export class ReceiveQueue<A extends DatagramAddr> {
  readonly #limit: number;
  #queue: Array<Datagram<A> | QueuedError> = [];
  #head = 0;
  #bytes = 0;
  #errorQueued = false;
  #waiters: Waiter<A>[] = [];
  #dropped = 0;
  /** The transport, when it wants to know whether a receive waits (see DatagramTransport.demand). */
  #demandTo: DatagramTransport | null = null;
  #demand = false;
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Called once the runtime's socket is bound. */
  attach(transport: DatagramTransport): void {
    if (transport.demand !== undefined) this.#demandTo = transport;
  }

  /** Tells a transport that wants to know whether a receive is waiting. */
  #updateDemand(): void {
    const wanted = this.#waiters.length > 0;
    if (wanted === this.#demand || this.#demandTo === null) return;
    this.#demand = wanted;
    this.#demandTo.demand!(wanted);
  }

  deliver(d: Datagram<A>): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      if (this.#demand) this.#updateDemand();
      return waiter.resolve(d);
    }
    const size = d.data.byteLength + DATAGRAM_OVERHEAD;
    if (this.#bytes + size > this.#limit) {
      this.#dropped++;
      return;
    }
    this.#bytes += size;
    this.#queue.push(d);
  }

  /** Like the kernel's pending socket error: one at a time, reported once, in order with the datagrams. */
  deliverError(e: SocketError): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      if (this.#demand) this.#updateDemand();
      return waiter.reject(e);
    }
    if (this.#errorQueued) return;
    this.#errorQueued = true;
    this.#queue.push(new QueuedError(e));
  }

  #take(): Datagram<A> | QueuedError {
    const item = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as Datagram<A>;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (item instanceof QueuedError) this.#errorQueued = false;
    else this.#bytes -= item.data.byteLength + DATAGRAM_OVERHEAD;
    return item;
  }

  /** The oldest queued datagram (or error) as a settled promise, or null when none is queued. */
  next(): Promise<Datagram<A>> | null {
    if (this.#head === this.#queue.length) return null;
    const item = this.#take();
    return item instanceof QueuedError ? Promise.reject(item.err) : Promise.resolve(item);
  }

  /** A receive by callbacks: settled now from the queue, or when a datagram comes. */
  wait(waiter: Waiter<A>): void {
    if (this.#head < this.#queue.length) {
      const item = this.#take();
      return item instanceof QueuedError ? waiter.reject(item.err) : waiter.resolve(item);
    }
    if (this.#closed) return waiter.reject(closedError());
    this.#waiters.push(waiter);
    if (this.#demandTo !== null && !this.#demand) this.#updateDemand();
  }

  /** A waiting receive leaves the line: the next datagram goes to the next one. */
  leave(waiter: Waiter<A>): void {
    const i = this.#waiters.indexOf(waiter);
    if (i === -1) return;
    this.#waiters.splice(i, 1);
    this.#updateDemand();
  }

  /** The socket closed: pending receives fail, queued datagrams are dropped. */
  close(): void {
    this.#closed = true;
    const err = closedError();
    for (const w of this.#waiters.splice(0)) w.reject(err);
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
