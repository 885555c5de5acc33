// Marks one version requirement of an ELF64 shared library as weak (VER_FLG_WEAK), so the
// dynamic loader only warns when the host library lacks that version instead of refusing
// to load. Used at build time to let libLibTorchSharp.so (built with GCC 13) load on hosts
// whose libstdc++ stops before GLIBCXX_3.4.32; see README "Why the build patches a native file".
// This file is compiled twice: into the MSBuild inline task below and into the tests.
using System;
using System.IO;
using System.Text;
// Also compiled by MSBuild's inline task factory against netstandard: keep to that API.

namespace DepthPrune.Build
{
    public enum ElfPatchOutcome { Patched, AlreadyWeak, VersionNotReferenced }

    public static class ElfVersionNeedPatch
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlagWeak = 0x2;

        /// <summary>Sets the weak flag on every vernaux entry named <paramref name="version"/>.
        /// Writes the file (temp + rename, original timestamp kept) only when a flag changed.</summary>
        public static ElfPatchOutcome MarkWeak(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            ElfPatchOutcome outcome = MarkWeak(elf, version, path);
            if (outcome == ElfPatchOutcome.Patched)
            {
                DateTime stamp = File.GetLastWriteTimeUtc(path);
                string temp = path + ".patching";
                File.WriteAllBytes(temp, elf);
                File.SetLastWriteTimeUtc(temp, stamp);
                File.Copy(temp, path, true); // netstandard has no overwriting Move; copy keeps it simple
                File.SetLastWriteTimeUtc(path, stamp);
                File.Delete(temp);
            }
            return outcome;
        }

        public static ElfPatchOutcome MarkWeak(byte[] elf, string version, string nameForErrors)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException(nameForErrors + ": not an ELF file (bad magic)");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException(nameForErrors + ": only 64-bit little-endian ELF is supported");

            long sectionTable = (long)U64(elf, 0x28, nameForErrors);
            int entrySize = U16(elf, 0x3A, nameForErrors);
            int sectionCount = U16(elf, 0x3C, nameForErrors);
            bool sawVersion = false, changed = false;
            for (int s = 0; s < sectionCount; s++)
            {
                long header = sectionTable + (long)s * entrySize;
                if (U32(elf, header + 4, nameForErrors) != ShtGnuVerneed) continue;
                long needOffset = (long)U64(elf, header + 24, nameForErrors);
                uint stringSection = U32(elf, header + 40, nameForErrors);
                uint needCount = U32(elf, header + 44, nameForErrors);
                long strings = (long)U64(elf, sectionTable + stringSection * entrySize + 24, nameForErrors);

                long need = needOffset;
                for (uint n = 0; n < needCount; n++)
                {
                    int auxCount = U16(elf, need + 2, nameForErrors);
                    long aux = need + U32(elf, need + 8, nameForErrors);
                    for (int a = 0; a < auxCount; a++)
                    {
                        string name = CString(elf, strings + U32(elf, aux + 8, nameForErrors), nameForErrors);
                        if (name == version)
                        {
                            sawVersion = true;
                            ushort flags = U16(elf, aux + 4, nameForErrors);
                            if ((flags & VerFlagWeak) == 0)
                            {
                                flags |= VerFlagWeak;
                                elf[aux + 4] = (byte)flags;
                                elf[aux + 5] = (byte)(flags >> 8);
                                changed = true;
                            }
                        }
                        aux += U32(elf, aux + 12, nameForErrors);
                    }
                    need += U32(elf, need + 12, nameForErrors);
                }
            }
            if (changed) return ElfPatchOutcome.Patched;
            return sawVersion ? ElfPatchOutcome.AlreadyWeak : ElfPatchOutcome.VersionNotReferenced;
        }

        /// <summary>True when a file contains the version name as a NUL-terminated string,
        /// which is how a library that defines a symbol version carries it in .dynstr.</summary>
        public static bool LibraryDefinesVersion(string libraryPath, string version)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 0; i + needle.Length <= bytes.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && bytes[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }

        static void Check(byte[] elf, long offset, int size, string file)
        {
            if (offset < 0 || offset + size > elf.Length)
                throw new InvalidDataException(file + ": truncated ELF (offset " + offset + " is past the end)");
        }
        static ushort U16(byte[] b, long o, string f) { Check(b, o, 2, f); return (ushort)(b[o] | b[o + 1] << 8); }
        static uint U32(byte[] b, long o, string f) { Check(b, o, 4, f); return BitConverter.ToUInt32(b, (int)o); }
        static ulong U64(byte[] b, long o, string f) { Check(b, o, 8, f); return BitConverter.ToUInt64(b, (int)o); }
        static string CString(byte[] b, long o, string f)
        {
            Check(b, o, 1, f);
            int end = Array.IndexOf(b, (byte)0, (int)o);
            if (end < 0) throw new InvalidDataException(f + ": unterminated string in ELF string table");
            return Encoding.ASCII.GetString(b, (int)o, end - (int)o);
        }
    }

#if !ELF_PATCH_WITHOUT_TASK
    /// <summary>MSBuild task: patch every libLibTorchSharp.so under the output folder when the
    /// host libstdc++ lacks the version it asks for.</summary>
    public class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        const string Version = "GLIBCXX_3.4.32";
        static readonly string[] LibStdCxxCandidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };

        [Microsoft.Build.Framework.Required] public string OutputDirectory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || !Directory.Exists(OutputDirectory)) return true;
            string host = Array.Find(LibStdCxxCandidates, File.Exists);
            if (host != null && ElfVersionNeedPatch.LibraryDefinesVersion(host, Version)) return true;
            foreach (string lib in Directory.EnumerateFiles(OutputDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                ElfPatchOutcome outcome = ElfVersionNeedPatch.MarkWeak(lib, Version);
                if (outcome == ElfPatchOutcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "Marked " + Version + " weak in " + lib);
            }
            return true;
        }
    }
#endif
}
