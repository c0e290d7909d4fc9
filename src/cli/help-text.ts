// Help text that reads well at 80 columns: the width commander wraps to, and paragraphs reflowed to it.

/** Help is wrapped at most this wide, however wide the terminal: longer lines are hard to read. */
export const MAX_HELP_WIDTH = 80;

/**
 * The width to wrap help at: the terminal's when it is narrower than MAX_HELP_WIDTH, else
 * MAX_HELP_WIDTH. Piped output has no terminal; `$COLUMNS` then stands in for it.
 */
export function helpWidth(stream: { readonly isTTY?: boolean; readonly columns?: number }, env: NodeJS.ProcessEnv = process.env): number {
  const columns = stream.isTTY ? stream.columns : Number(env['COLUMNS']);
  return columns !== undefined && Number.isInteger(columns) && columns >= 40 ? Math.min(columns, MAX_HELP_WIDTH) : MAX_HELP_WIDTH;
}

/** The width help goes out at: on stderr for the help shown after a usage error, else on stdout. */
export function helpWidthFor(error: boolean): number {
  return helpWidth(error ? process.stderr : process.stdout);
}

/** For commander's addHelpText('after', …): `text` reflowed to the help's width, after a blank line. */
export function afterHelp(text: string): (context: { error: boolean }) => string {
  return ({ error }) => `\n${reflow(text.replace(/^\n+/, ''), helpWidthFor(error))}`;
}

/** Breaks `text` at spaces into lines of at most `width` characters (a longer word stays whole). */
export function wrapLine(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Reflows `text` to `width`: blocks are separated by blank lines; a block whose lines start at the
 * margin is a paragraph, joined and wrapped; an indented block (examples, code) is kept as written.
 */
export function reflow(text: string, width: number): string {
  return text.split(/\n[ \t]*\n/).map((block) => {
    const lines = block.split('\n');
    if (lines.some((line) => /^\s/.test(line))) return block;
    return wrapLine(lines.join(' '), width).join('\n');
  }).join('\n\n');
}

/**
 * A two-column list (`  term  description`), descriptions wrapped to `width` and aligned under each
 * other, as commander lays out options.
 */
export function definitionList(items: readonly (readonly [string, string])[], width: number): string {
  const termWidth = Math.max(...items.map(([term]) => term.length));
  const indent = 2 + termWidth + 2;
  return items.map(([term, description]) => {
    const lines = wrapLine(description, Math.max(20, width - indent));
    return `  ${term.padEnd(termWidth)}  ${lines.join(`\n${' '.repeat(indent)}`)}`;
  }).join('\n');
}
