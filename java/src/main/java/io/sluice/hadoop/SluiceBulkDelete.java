package io.sluice.hadoop;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The work of Hadoop 3.4.1's BulkDelete for sluice://, without its types (the project compiles
 * against Hadoop 3.3.6): a page of up to {@link #PAGE_SIZE} files, each deleted with
 * delete(path, false), one metadata transaction each; not atomic, as BulkDelete allows.
 *
 * <p>What BulkDelete asks: every path absolute and under the base path (which may itself be
 * deleted), at most a page of them, else IllegalArgumentException before anything is deleted; a
 * missing path counts as deleted; the result lists the paths that could not be deleted, with the
 * reason. Directories are not BulkDelete's business; an empty one is deleted, a non-empty one is
 * a failure entry and stays. Paths are deleted deepest first, so a page holding a directory and
 * the files in it deletes them all.
 *
 * <p>On Hadoop 3.4.1+, until a SluiceFileSystem subclass compiled against it overrides
 * createBulkDelete(Path) with an adapter over this class, FileSystem's default serves BulkDelete
 * with page size 1 through the same delete(path, false).
 */
public final class SluiceBulkDelete {
  /** Paths per call: each is one small transaction, so a page costs what its deletes cost. */
  public static final int PAGE_SIZE = 1000;

  private final FileSystem fs;
  private final Path base;

  public SluiceBulkDelete(FileSystem fs, Path base) {
    if (base == null) {
      throw new IllegalArgumentException("bulk delete: no base path");
    }
    this.fs = fs;
    this.base = fs.makeQualified(base);
  }

  public int pageSize() {
    return PAGE_SIZE;
  }

  public Path basePath() {
    return base;
  }

  /** Deletes paths (see the class comment); returns the failures, path and reason. */
  public List<Map.Entry<Path, String>> bulkDelete(Collection<Path> paths) throws IOException {
    if (paths == null) {
      throw new IllegalArgumentException("bulk delete under " + base + ": no paths");
    }
    if (paths.size() > PAGE_SIZE) {
      throw new IllegalArgumentException("bulk delete under " + base + ": " + paths.size()
          + " paths, more than the page size " + PAGE_SIZE);
    }
    Set<Path> unique = new LinkedHashSet<>();
    for (Path p : paths) {
      if (p == null || !p.isAbsolute()) {
        throw new IllegalArgumentException("bulk delete: path " + p + " is not absolute");
      }
      Path q = fs.makeQualified(p);
      if (!under(q)) {
        throw new IllegalArgumentException("bulk delete: path " + p + " is not under the base"
            + " path " + base);
      }
      unique.add(q);
    }
    List<Path> ordered = new ArrayList<>(unique);
    ordered.sort(Comparator.comparingInt(Path::depth).reversed());
    List<Map.Entry<Path, String>> failures = new ArrayList<>();
    for (Path p : ordered) {
      try {
        fs.delete(p, false);
      } catch (FileNotFoundException e) {
        // gone already: deleted
      } catch (IOException e) {
        failures.add(new AbstractMap.SimpleImmutableEntry<>(p, e.toString()));
      }
    }
    return failures;
  }

  private boolean under(Path p) {
    for (Path q = p; q != null; q = q.getParent()) {
      if (q.equals(base)) {
        return true;
      }
    }
    return false;
  }
}
