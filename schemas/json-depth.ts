/**
 * Nesting depth of JSON, measured without recursion. A recursive walk (JSON.stringify, a deep
 * clone, a recursive validator) of a value nested 100,000 levels overflows the stack; the resulting
 * RangeError looks like a server fault and is answered as retryable, although the same input fails
 * the same way every time. These scans use an explicit stack, so the check itself cannot overflow.
 */

/** Depth of a parsed value: a scalar is 0, `{}` and `[]` are 1, `{"a":[1]}` is 2. Stops once past `limit`. */
export function jsonValueDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'object' || value === null) return 0
  let deepest = 0
  const stack: [object, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return deepest
}

/**
 * Depth of JSON text, by counting brackets outside strings (one pass, no parse), so a body can be
 * refused before JSON.parse builds it. Malformed text gives some number; JSON.parse reports the
 * syntax error afterwards. Stops once past `limit`.
 */
export function jsonTextDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      // Jump to the next quote (most of a telemetry body is string content: prompts, responses);
      // it closes the string unless an odd run of backslashes escapes it.
      const quote = text.indexOf('"', i)
      if (quote < 0) break
      let backslashes = 0
      while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++
      i = quote
      if (backslashes % 2 === 0) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}
