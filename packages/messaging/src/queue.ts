/** A FIFO with O(1) amortised push and shift (Array#shift is O(n) on large arrays). */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th item from the front, or undefined. */
  at(i: number): T | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head += 1;
    this.compact();
    return item;
  }

  /** Drops the first n items. */
  drop(n: number): void {
    this.head = Math.min(this.items.length, this.head + Math.max(0, n));
    this.compact();
  }

  /** Items i..j-1 from the front, as a new array. */
  slice(i: number, j: number): T[] {
    return this.items.slice(this.head + Math.max(0, i), this.head + Math.max(0, j));
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
