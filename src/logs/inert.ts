/**
 * Text from the workload made inert before the action prints it as its own. The runner reads a
 * line as a workflow command when it starts with `::` (after blanks) and, in the legacy form,
 * wherever `##[` appears; .NET's line reader also ends a line at a lone `\r`. A file name, an
 * item id or an engine's message can carry any of these, so each is broken with an invisible
 * U+2060 WORD JOINER, and `\r` is shown as `\r`. Mask secrets first: a break inside a secret
 * would keep the runner's own masking from finding it.
 */
const JOINER = '\u2060';

export function inert(text: string): string {
  return text
    .replace(/\r(?!\n)/g, '\\r')
    .replace(/##\[/g, `##${JOINER}[`)
    .replace(/^([^\S\n]*):(?=:)/gm, `$1:${JOINER}`);
}
