// How a text is split into SMS segments, as carriers count it:
// GSM-7 (3GPP TS 23.038 basic set; the extension set costs two septets) fits
// 160 in one segment and 153 per segment when split; anything else goes as
// UCS-2: 70 UTF-16 units in one, 67 per segment when split.

const BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENDED = "^{}\\[~]|€\f";
const basic = new Set(BASIC);
const extended = new Set(EXTENDED);

export function segments(text) {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extended.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    const count = septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153);
    const limit = count <= 1 ? 160 : count * 153;
    return { encoding: "GSM-7", units: septets, count, limit };
  }
  const units = text.length; // UTF-16 code units: an emoji takes two
  const count = units <= 70 ? 1 : Math.ceil(units / 67);
  const limit = count <= 1 ? 70 : count * 67;
  const odd = [...text].filter((ch) => !basic.has(ch) && !extended.has(ch));
  return { encoding: "UCS-2", units, count, limit, because: [...new Set(odd)].slice(0, 3) };
}

export function describe(text) {
  const s = segments(text);
  if (s.count === 0) return "Empty · GSM-7 · 160 characters per segment";
  const plural = s.count === 1 ? "segment" : "segments";
  let line = `${s.count} ${plural} · ${s.encoding} · ${s.units}/${s.limit}`;
  if (s.encoding === "UCS-2" && s.because.length) line += ` (because of ${s.because.map((c) => `“${c}”`).join(" ")})`;
  return line;
}
