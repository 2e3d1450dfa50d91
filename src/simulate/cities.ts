// Where the simulated people live and pay: 20 countries and 100 of their cities with real coordinates
// (city centre, WGS 84, rounded to 0.01°), the country's currency and the Faker locale used for the
// names of its merchants. `weight` is a rough share of card traffic (bigger cities, more users).

/** The fixed set of Faker locales the simulator uses (more would only slow the population build). */
export const LOCALE_KEYS = [
  "en",
  "en_US",
  "en_GB",
  "de",
  "fr",
  "es",
  "it",
  "nl",
  "pl",
  "sv",
  "pt_BR",
  "es_MX",
  "en_CA",
  "en_IN",
  "ja",
  "en_AU",
  "en_ZA",
  "en_NG",
  "tr",
] as const;
export type LocaleKey = (typeof LOCALE_KEYS)[number];

export interface Country {
  code: string;
  currency: string;
  /** Faker locale definition that names the country's merchants (see population.ts). */
  locale: LocaleKey;
}

export interface City {
  name: string;
  country: string;
  lat: number;
  lon: number;
  weight: number;
}

export const COUNTRIES: readonly Country[] = [
  { code: "US", currency: "USD", locale: "en_US" },
  { code: "GB", currency: "GBP", locale: "en_GB" },
  { code: "DE", currency: "EUR", locale: "de" },
  { code: "FR", currency: "EUR", locale: "fr" },
  { code: "ES", currency: "EUR", locale: "es" },
  { code: "IT", currency: "EUR", locale: "it" },
  { code: "NL", currency: "EUR", locale: "nl" },
  { code: "PL", currency: "PLN", locale: "pl" },
  { code: "SE", currency: "SEK", locale: "sv" },
  { code: "BR", currency: "BRL", locale: "pt_BR" },
  { code: "MX", currency: "MXN", locale: "es_MX" },
  { code: "CA", currency: "CAD", locale: "en_CA" },
  { code: "IN", currency: "INR", locale: "en_IN" },
  { code: "JP", currency: "JPY", locale: "ja" },
  { code: "AU", currency: "AUD", locale: "en_AU" },
  { code: "ZA", currency: "ZAR", locale: "en_ZA" },
  { code: "NG", currency: "NGN", locale: "en_NG" },
  { code: "AE", currency: "AED", locale: "en" },
  { code: "SG", currency: "SGD", locale: "en" },
  { code: "TR", currency: "TRY", locale: "tr" },
];

const c = (name: string, country: string, lat: number, lon: number, weight: number): City => ({
  name,
  country,
  lat,
  lon,
  weight,
});

export const CITIES: readonly City[] = [
  c("New York", "US", 40.71, -74.01, 10),
  c("Los Angeles", "US", 34.05, -118.24, 7),
  c("Chicago", "US", 41.88, -87.63, 5),
  c("Houston", "US", 29.76, -95.37, 4),
  c("Phoenix", "US", 33.45, -112.07, 3),
  c("San Francisco", "US", 37.77, -122.42, 3),
  c("Seattle", "US", 47.61, -122.33, 3),
  c("Miami", "US", 25.76, -80.19, 3),
  c("Boston", "US", 42.36, -71.06, 3),
  c("Denver", "US", 39.74, -104.99, 2),
  c("London", "GB", 51.51, -0.13, 9),
  c("Manchester", "GB", 53.48, -2.24, 3),
  c("Birmingham", "GB", 52.49, -1.89, 3),
  c("Glasgow", "GB", 55.86, -4.25, 2),
  c("Leeds", "GB", 53.8, -1.55, 2),
  c("Berlin", "DE", 52.52, 13.41, 6),
  c("Hamburg", "DE", 53.55, 9.99, 4),
  c("Munich", "DE", 48.14, 11.58, 4),
  c("Cologne", "DE", 50.94, 6.96, 3),
  c("Frankfurt", "DE", 50.11, 8.68, 3),
  c("Stuttgart", "DE", 48.78, 9.18, 2),
  c("Paris", "FR", 48.86, 2.35, 7),
  c("Lyon", "FR", 45.76, 4.84, 3),
  c("Marseille", "FR", 43.3, 5.37, 3),
  c("Toulouse", "FR", 43.6, 1.44, 2),
  c("Nice", "FR", 43.7, 7.27, 2),
  c("Madrid", "ES", 40.42, -3.7, 5),
  c("Barcelona", "ES", 41.39, 2.17, 5),
  c("Valencia", "ES", 39.47, -0.38, 2),
  c("Seville", "ES", 37.39, -5.98, 2),
  c("Rome", "IT", 41.9, 12.5, 5),
  c("Milan", "IT", 45.46, 9.19, 5),
  c("Naples", "IT", 40.85, 14.27, 3),
  c("Turin", "IT", 45.07, 7.69, 2),
  c("Amsterdam", "NL", 52.37, 4.9, 4),
  c("Rotterdam", "NL", 51.92, 4.48, 2),
  c("Utrecht", "NL", 52.09, 5.12, 2),
  c("Warsaw", "PL", 52.23, 21.01, 4),
  c("Krakow", "PL", 50.06, 19.94, 2),
  c("Wroclaw", "PL", 51.11, 17.04, 2),
  c("Gdansk", "PL", 54.35, 18.65, 1),
  c("Stockholm", "SE", 59.33, 18.07, 3),
  c("Gothenburg", "SE", 57.71, 11.97, 2),
  c("Malmo", "SE", 55.6, 13.0, 1),
  c("Sao Paulo", "BR", -23.55, -46.63, 8),
  c("Rio de Janeiro", "BR", -22.91, -43.17, 5),
  c("Brasilia", "BR", -15.79, -47.88, 2),
  c("Salvador", "BR", -12.97, -38.5, 2),
  c("Belo Horizonte", "BR", -19.92, -43.94, 2),
  c("Mexico City", "MX", 19.43, -99.13, 7),
  c("Guadalajara", "MX", 20.66, -103.35, 3),
  c("Monterrey", "MX", 25.69, -100.32, 3),
  c("Cancun", "MX", 21.16, -86.85, 1),
  c("Toronto", "CA", 43.65, -79.38, 5),
  c("Montreal", "CA", 45.5, -73.57, 3),
  c("Vancouver", "CA", 49.28, -123.12, 3),
  c("Calgary", "CA", 51.05, -114.07, 2),
  c("Ottawa", "CA", 45.42, -75.7, 1),
  c("Mumbai", "IN", 19.08, 72.88, 7),
  c("Delhi", "IN", 28.7, 77.1, 7),
  c("Bangalore", "IN", 12.97, 77.59, 5),
  c("Hyderabad", "IN", 17.39, 78.49, 3),
  c("Chennai", "IN", 13.08, 80.27, 3),
  c("Kolkata", "IN", 22.57, 88.36, 3),
  c("Tokyo", "JP", 35.68, 139.69, 9),
  c("Osaka", "JP", 34.69, 135.5, 4),
  c("Yokohama", "JP", 35.44, 139.64, 3),
  c("Nagoya", "JP", 35.18, 136.91, 2),
  c("Sapporo", "JP", 43.06, 141.35, 2),
  c("Fukuoka", "JP", 33.59, 130.4, 1),
  c("Sydney", "AU", -33.87, 151.21, 5),
  c("Melbourne", "AU", -37.81, 144.96, 5),
  c("Brisbane", "AU", -27.47, 153.03, 2),
  c("Perth", "AU", -31.95, 115.86, 2),
  c("Adelaide", "AU", -34.93, 138.6, 1),
  c("Johannesburg", "ZA", -26.2, 28.05, 4),
  c("Cape Town", "ZA", -33.92, 18.42, 3),
  c("Durban", "ZA", -29.86, 31.02, 2),
  c("Pretoria", "ZA", -25.75, 28.19, 1),
  c("Lagos", "NG", 6.52, 3.38, 5),
  c("Abuja", "NG", 9.08, 7.4, 2),
  c("Kano", "NG", 12.0, 8.52, 1),
  c("Ibadan", "NG", 7.38, 3.95, 1),
  c("Dubai", "AE", 25.2, 55.27, 4),
  c("Abu Dhabi", "AE", 24.45, 54.38, 2),
  c("Sharjah", "AE", 25.35, 55.42, 1),
  c("Singapore", "SG", 1.35, 103.82, 5),
  c("Istanbul", "TR", 41.01, 28.98, 7),
  c("Ankara", "TR", 39.93, 32.86, 3),
  c("Izmir", "TR", 38.42, 27.14, 2),
  c("Antalya", "TR", 36.9, 30.7, 1),
  c("Bursa", "TR", 40.19, 29.06, 1),
  c("Philadelphia", "US", 39.95, -75.17, 3),
  c("Dallas", "US", 32.78, -96.8, 3),
  c("Atlanta", "US", 33.75, -84.39, 3),
  c("Edinburgh", "GB", 55.95, -3.19, 1),
  c("Dresden", "DE", 51.05, 13.74, 1),
  c("Bordeaux", "FR", 44.84, -0.58, 1),
  c("Bilbao", "ES", 43.26, -2.93, 1),
  c("Florence", "IT", 43.77, 11.26, 1),
];

export const COUNTRY_BY_CODE: ReadonlyMap<string, Country> = new Map(COUNTRIES.map((x) => [x.code, x]));

/** Great-circle distance in km. */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
