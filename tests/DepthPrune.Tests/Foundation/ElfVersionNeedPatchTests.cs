using System.Text;
using DepthPrune.Build;

namespace DepthPrune.Tests.Foundation;

public class ElfVersionNeedPatchTests
{
    /// <summary>A minimal ELF64 LE file: a .dynstr and a .gnu.version_r needing two libstdc++ versions.</summary>
    static (byte[] Elf, int WeakFlagOffset, int OtherFlagOffset) CraftElf()
    {
        byte[] strings = Encoding.ASCII.GetBytes("\0libstdc++.so.6\0GLIBCXX_3.4.32\0GLIBCXX_3.4.30\0");
        int fileName = 1, v32 = 16, v30 = 31;
        const int strOffset = 64, needOffset = 128, sectionTable = 192, entry = 64;
        var elf = new byte[sectionTable + 3 * entry];
        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F'; elf[4] = 2; elf[5] = 1; elf[6] = 1;
        Put64(elf, 0x28, sectionTable); Put16(elf, 0x3A, entry); Put16(elf, 0x3C, 3);
        strings.CopyTo(elf, strOffset);
        // Verneed: version 1, 2 aux entries, file name, aux at +16, no next.
        Put16(elf, needOffset, 1); Put16(elf, needOffset + 2, 2); Put32(elf, needOffset + 4, fileName);
        Put32(elf, needOffset + 8, 16); Put32(elf, needOffset + 12, 0);
        int aux1 = needOffset + 16, aux2 = aux1 + 16;
        Put32(elf, aux1, 0x0297f862); Put16(elf, aux1 + 4, 0); Put16(elf, aux1 + 6, 3); Put32(elf, aux1 + 8, v32); Put32(elf, aux1 + 12, 16);
        Put32(elf, aux2, 0x0297f860); Put16(elf, aux2 + 4, 0); Put16(elf, aux2 + 6, 2); Put32(elf, aux2 + 8, v30); Put32(elf, aux2 + 12, 0);
        // Section 1: .dynstr (SHT_STRTAB), section 2: .gnu.version_r linked to 1 with 1 entry.
        int s1 = sectionTable + entry, s2 = sectionTable + 2 * entry;
        Put32(elf, s1 + 4, 3); Put64(elf, s1 + 24, strOffset); Put64(elf, s1 + 32, strings.Length);
        Put32(elf, s2 + 4, 0x6ffffffe); Put64(elf, s2 + 24, needOffset); Put64(elf, s2 + 32, 48); Put32(elf, s2 + 40, 1); Put32(elf, s2 + 44, 1);
        return (elf, aux1 + 4, aux2 + 4);
    }

    static void Put16(byte[] b, int o, int v) => BitConverter.GetBytes((ushort)v).CopyTo(b, o);
    static void Put32(byte[] b, int o, int v) => BitConverter.GetBytes(v).CopyTo(b, o);
    static void Put64(byte[] b, int o, long v) => BitConverter.GetBytes(v).CopyTo(b, o);

    [Fact]
    public void Marks_only_the_named_version_weak_and_leaves_every_other_byte()
    {
        var (elf, weakFlag, otherFlag) = CraftElf();
        byte[] before = (byte[])elf.Clone();

        var outcome = ElfVersionNeedPatch.MarkWeak(elf, "GLIBCXX_3.4.32", "crafted.so");

        Assert.Equal(ElfPatchOutcome.Patched, outcome);
        Assert.Equal(2, elf[weakFlag]);
        Assert.Equal(0, elf[otherFlag]);
        for (int i = 0; i < elf.Length; i++)
            if (i != weakFlag) Assert.True(before[i] == elf[i], $"byte {i} changed");
    }

    [Fact]
    public void Second_run_on_a_file_is_a_no_op_and_keeps_the_timestamp()
    {
        string path = Path.Combine(Path.GetTempPath(), "elfpatch-" + Guid.NewGuid() + ".so");
        try
        {
            File.WriteAllBytes(path, CraftElf().Elf);
            var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(path, stamp);

            Assert.Equal(ElfPatchOutcome.Patched, ElfVersionNeedPatch.MarkWeak(path, "GLIBCXX_3.4.32"));
            byte[] once = File.ReadAllBytes(path);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
            Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionNeedPatch.MarkWeak(path, "GLIBCXX_3.4.32"));
            Assert.Equal(once, File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_version_the_file_does_not_need_changes_nothing()
    {
        var (elf, _, _) = CraftElf();
        byte[] before = (byte[])elf.Clone();
        Assert.Equal(ElfPatchOutcome.VersionNotReferenced, ElfVersionNeedPatch.MarkWeak(elf, "GLIBCXX_9.9", "crafted.so"));
        Assert.Equal(before, elf);
    }

    [Fact]
    public void Non_elf_and_truncated_files_are_refused_with_the_file_name()
    {
        var bad = new byte[100];
        var e1 = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatch.MarkWeak(bad, "X", "junk.so"));
        Assert.Contains("junk.so", e1.Message);
        byte[] truncated = CraftElf().Elf[..180];
        var e2 = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatch.MarkWeak(truncated, "X", "cut.so"));
        Assert.Contains("truncated", e2.Message);
    }

    [Fact]
    public void Host_version_lookup_finds_a_nul_terminated_name()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("xxGLIBCXX_3.4.30\0GLIBCXX_3.4.3\0"));
            Assert.True(ElfVersionNeedPatch.LibraryDefinesVersion(path, "GLIBCXX_3.4.30"));
            Assert.True(ElfVersionNeedPatch.LibraryDefinesVersion(path, "GLIBCXX_3.4.3"));
            Assert.False(ElfVersionNeedPatch.LibraryDefinesVersion(path, "GLIBCXX_3.4.32"));
        }
        finally { File.Delete(path); }
    }
}
