import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The dependency direction CONTRIBUTING.md draws: packages never import a service, and
 * no service imports another (queue contracts live in packages/jobs); only the
 * all-in-one (services/vigil) composes the services. Read from the sources themselves.
 */
const root = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

/** Every @vigil/service-* a workspace's code imports (tests included). */
function servicesImportedBy(workspace: string): Set<string> {
  const found = new Set<string>();
  for (const file of sources(join(root, workspace, "src")))
    for (const m of readFileSync(file, "utf8").matchAll(/from "(@vigil\/service-[\w-]+)/g)) found.add(m[1] as string);
  return found;
}

describe("the dependency direction", () => {
  it("packages import no service", () => {
    for (const pkg of readdirSync(join(root, "packages")))
      expect([...servicesImportedBy(`packages/${pkg}`)], `packages/${pkg}`).toEqual([]);
  });

  it("no service imports another, except the all-in-one that composes them", () => {
    for (const service of readdirSync(join(root, "services"))) {
      if (service === "vigil") continue;
      const own = (
        JSON.parse(readFileSync(join(root, "services", service, "package.json"), "utf8")) as { name: string }
      ).name;
      const others = [...servicesImportedBy(`services/${service}`)].filter((s) => s !== own);
      expect(others, `services/${service}`).toEqual([]);
    }
  });

  it("the attribute names Vigil defines are spelled once, in @vigil/common/attributes", async () => {
    const names = Object.values(await import("@vigil/common/attributes"));
    expect(names.length).toBeGreaterThan(5);
    const spelled: string[] = [];
    for (const top of ["packages", "services"])
      for (const workspace of readdirSync(join(root, top)))
        for (const file of sources(join(root, top, workspace, "src"))) {
          if (file.endsWith(".test.ts") || file.endsWith(join("common", "src", "attributes.ts"))) continue;
          const text = readFileSync(file, "utf8");
          for (const name of names)
            if (text.includes(`"${name}"`)) spelled.push(`${file.slice(root.length + 1)}: ${name}`);
        }
    expect(spelled).toEqual([]);
  });
});
