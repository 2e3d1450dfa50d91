// Countries and their currencies from well-kept datasets rather than a table of our own:
// `i18n-iso-countries` (ISO 3166-1 codes with the English names and their common variants) and
// `country-to-currency` (each alpha-2 code's default ISO 4217 currency). Both are read once into
// maps, so a lookup per record is one Map.get.
import countryToCurrency from "country-to-currency";
import countries from "i18n-iso-countries";

/** Lower case, accents and punctuation folded, spaces squeezed: "Côte d'Ivoire" → "cote d ivoire". */
function fold(name: string): string {
  return name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

const BY_NAME = new Map<string, string>();
for (const [alpha2, names] of Object.entries(countries.getNames("en", { select: "all" }))) {
  for (const name of names) if (!BY_NAME.has(fold(name))) BY_NAME.set(fold(name), alpha2);
}
const ALPHA3 = new Map<string, string>(
  Object.entries(countries.getAlpha3Codes()).map(([a3, a2]) => [a3.toUpperCase(), a2.toUpperCase()]),
);
const ALPHA2 = new Set(Object.keys(countries.getAlpha2Codes()).map((c) => c.toUpperCase()));

/**
 * ISO 3166-1 alpha-2 code of a country given as an alpha-2 code (any case), an alpha-3 code, or an
 * English name (with the dataset's variants: "United States", "USA", "South Korea"); undefined when
 * it is none of those. Two letters pass through upper-cased even when unassigned (the contract only
 * asks for the shape, and an identity mapping must not drop what the producer sent).
 */
export function toAlpha2(text: string): string | undefined {
  const t = text.trim();
  if (/^[A-Za-z]{2}$/.test(t)) return t.toUpperCase();
  if (/^[A-Za-z]{3}$/.test(t)) {
    const a2 = ALPHA3.get(t.toUpperCase());
    if (a2 !== undefined) return a2;
  }
  return BY_NAME.get(fold(t));
}

/** Whether `code` is an assigned alpha-2 code. */
export function isAssignedAlpha2(code: string): boolean {
  return ALPHA2.has(code);
}

const CURRENCY: ReadonlyMap<string, string> = new Map(Object.entries(countryToCurrency));

/** The default currency (ISO 4217) of an alpha-2 country, when the dataset has one. */
export function currencyOf(alpha2: string): string | undefined {
  return CURRENCY.get(alpha2);
}
