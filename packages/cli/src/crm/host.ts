/**
 * What the crm shell needs from the world for `edit`, `filter`, `load` and `save`, and the seam
 * for the CIB it works on. The shell core stays pure; `../commands/` supplies the real ones.
 */

/** Files, the editor and filter commands. Each call may throw; the message is shown to the user. */
export interface CrmHost {
  /** The text of a file (`load`). */
  readFile(path: string): string;
  /** Writes a file whole (`save`). */
  writeFile(path: string, text: string): void;
  /** Lets the user edit `text` in $EDITOR; the edited text, or undefined when the editor failed. */
  editText(text: string, suffix: string): string | undefined;
  /** `text` piped through the shell command `command`; its standard output. Throws when it fails. */
  filterText(command: string, text: string): string;
}

/** A CIB version triple, as `<cib admin_epoch epoch num_updates>` carries it. */
export interface CibVersionTag {
  readonly adminEpoch: number;
  readonly epoch: number;
  readonly numUpdates: number;
}

/** Outcome of a CIB replace: a conflict means the CIB changed since it was read. */
export type CibReplaceResult = { readonly ok: true; readonly cibText: string } | { readonly ok: false; readonly conflict: boolean; readonly message: string };

/**
 * Where the shell's CIB lives: a file offline (CIB_file), or a running cluster through its API.
 * The interactive shell reads through it when it starts and on `refresh`, and commits through it.
 */
export interface CibBackend {
  /** A short name for prompts and messages (`cib.xml`, `live`). */
  readonly name: string;
  /** The CIB as XML text. */
  read(): Promise<string>;
  /**
   * Replaces the CIB with `cibText` if the stored one still has version `basedOn` (the one read);
   * returns the CIB now stored. A concurrent change is a conflict and nothing is written.
   */
  replace(cibText: string, basedOn: CibVersionTag): Promise<CibReplaceResult>;
  /**
   * Commands of the levels that act on the running cluster (`resource`, `node`, `cluster`...);
   * undefined when the backend has none (offline). Resolves to what to print and an exit code.
   */
  readonly runLive?: (level: string, words: readonly string[]) => Promise<{ readonly exitCode: number; readonly output: string }>;
}
