// Kept apart from the readers so that the command line can recognise these errors (and print them as
// one line instead of a stack) without loading the CSV and Parquet libraries.

/** The input file cannot be read as a whole: missing, unknown format, broken header or footer. */
export class InputFileError extends Error {
  override name = "InputFileError";
}
