/**
 * `ts_headline` options shared by every search: matches are marked with
 * STX/ETX (characters our validators refuse in stored text), so a snippet can
 * be HTML-escaped first and the markers turned into `<b>` after, with no way
 * for stored text to inject markup.
 */
export const HEADLINE_OPTIONS =
  'StartSel=\u0002, StopSel=\u0003, MaxWords=35, MinWords=12, ShortWord=3, MaxFragments=2, FragmentDelimiter=" … "';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes a `ts_headline` made with {@link HEADLINE_OPTIONS} and turns its match markers into `<b>`/`</b>`. */
export function toSnippetHtml(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char)
    .replaceAll('\u0002', '<b>')
    .replaceAll('\u0003', '</b>');
}
