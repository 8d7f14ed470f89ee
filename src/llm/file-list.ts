import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

const GLOB = /[*?[{]/;

/**
 * The files a path names, sorted: the file itself, every file under a directory (recursively), or
 * those matching a glob (`*` and `?` within a name, `**` across directories, `[abc]`, and `{a,b}`
 * of plain alternatives).
 * Names starting with a dot are left out of directory walks, as shells do.
 */
export async function listFiles(pattern: string): Promise<string[]> {
  if (!GLOB.test(pattern)) {
    const info = await stat(pattern);
    return info.isDirectory() ? walk(pattern) : [pattern];
  }
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((part) => GLOB.test(part));
  const base = parts.slice(0, firstGlob).join("/") || ".";
  const matcher = globRegExp(parts.slice(firstGlob).join("/"));
  const files = await walk(base).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return files.filter((file) => matcher.test(relative(base, file).split(sep).join("/")));
}

async function walk(directory: string): Promise<string[]> {
  const files: string[] = [];
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** A regular expression matching relative paths (with `/`) against a glob. */
export function globRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      source += slash ? "(?:[^/]+/)*" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        const body = glob.slice(i + 1, end);
        source += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === "{") {
      const end = glob.indexOf("}", i + 1);
      if (end < 0) source += "\\{";
      else {
        source += `(?:${glob.slice(i + 1, end).split(",").map(escape).join("|")})`;
        i = end;
      }
    } else source += escape(c);
  }
  return new RegExp(`^${source}$`);
}

const escape = (text: string): string => text.replace(/[.+^$()|\\/[\]{}*?]/g, "\\$&");
