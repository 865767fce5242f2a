/** A binary min-heap ordered by a numeric priority (suppression buffers pop by window close time). */
export class MinHeap<T> {
  private readonly items: { priority: number; item: T }[] = []

  get size(): number {
    return this.items.length
  }

  push(priority: number, item: T): void {
    const items = this.items
    items.push({ priority, item })
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent]!.priority <= priority) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = { priority, item }
  }

  /**
   * Calls `fn` for every item of priority <= `max`, in no particular order, without removing any:
   * visits only those and their direct children (a subtree whose root is over `max` is all over it).
   */
  forEachUpTo(max: number, fn: (priority: number, item: T) => void): void {
    const items = this.items
    const stack: number[] = items.length > 0 ? [0] : []
    for (let i = stack.pop(); i !== undefined; i = stack.pop()) {
      const node = items[i]!
      if (node.priority > max) continue
      fn(node.priority, node.item)
      const left = 2 * i + 1
      if (left < items.length) stack.push(left)
      if (left + 1 < items.length) stack.push(left + 1)
    }
  }

  peekPriority(): number | undefined {
    return this.items[0]?.priority
  }

  pop(): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined) return undefined
    if (items.length > 0) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        if (left >= items.length) break
        const right = left + 1
        const child = right < items.length && items[right]!.priority < items[left]!.priority ? right : left
        if (items[child]!.priority >= last.priority) break
        items[i] = items[child]!
        i = child
      }
      items[i] = last
    }
    return top.item
  }
}
