package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * SluiceBulkDelete, the work behind BulkDelete (Hadoop 3.4.1; its contract suite is not in the
 * Hadoop 3.3.6 test jar this project builds with): the cases of AbstractContractBulkDeleteTest
 * with a page size above 1, and the preconditions.
 */
public class TestSluiceBulkDelete {
  private FileSystem fs;
  private Path base;
  private SluiceBulkDelete bulk;

  @Before
  public void setUp() throws IOException {
    fs = SluiceTestVolume.newFileSystem(SluiceTestVolume.configure(new Configuration()));
    base = fs.makeQualified(SluiceTestVolume.freshDir(fs, "/bulk-"));
    bulk = new SluiceBulkDelete(fs, base);
  }

  @After
  public void tearDown() throws IOException {
    SluiceTestVolume.removeAndClose(fs, base);
  }

  private void touch(Path p) throws IOException {
    fs.create(p, true).close();
  }

  private List<Path> files(int n) {
    List<Path> paths = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      paths.add(new Path(base, "file-" + i));
    }
    return paths;
  }

  @Test
  public void aWholePageIsDeleted() throws IOException {
    assertThat(bulk.pageSize()).isEqualTo(SluiceBulkDelete.PAGE_SIZE).isGreaterThan(1);
    assertThat(bulk.basePath()).isEqualTo(base);
    List<Path> paths = files(bulk.pageSize());
    for (Path p : paths.subList(0, 50)) {
      touch(p);
    }
    assertThat(bulk.bulkDelete(paths)).isEmpty(); // missing paths count as deleted
    assertThat(fs.listStatus(base)).isEmpty();
    assertThat(bulk.bulkDelete(Collections.emptyList())).isEmpty();
  }

  @Test
  public void preconditionsFailBeforeAnythingIsDeleted() throws IOException {
    List<Path> tooMany = files(bulk.pageSize() + 1);
    touch(tooMany.get(0));
    assertThatThrownBy(() -> bulk.bulkDelete(tooMany))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> bulk.bulkDelete(Arrays.asList(tooMany.get(0),
        new Path("/elsewhere")))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> bulk.bulkDelete(Arrays.asList(tooMany.get(0),
        new Path("relative")))).isInstanceOf(IllegalArgumentException.class);
    assertThat(fs.exists(tooMany.get(0))).isTrue();
  }

  @Test
  public void directories() throws IOException {
    Path dir = new Path(base, "dir");
    Path file = new Path(dir, "file");
    touch(file);
    // alone, a non-empty directory stays and is reported
    List<Map.Entry<Path, String>> failed = bulk.bulkDelete(Collections.singletonList(dir));
    assertThat(failed).hasSize(1);
    assertThat(failed.get(0).getKey()).isEqualTo(dir);
    assertThat(fs.getFileStatus(dir).isDirectory()).isTrue();
    // with its file (listed after it, and twice): the file goes first, then the directory
    assertThat(bulk.bulkDelete(Arrays.asList(dir, file, file))).isEmpty();
    assertThat(fs.exists(dir)).isFalse();
    // deep files, an empty directory, and the base path itself
    Path deep = new Path(base, "a/b/c/file");
    touch(deep);
    Path empty = new Path(base, "empty");
    fs.mkdirs(empty);
    assertThat(bulk.bulkDelete(Arrays.asList(deep, empty))).isEmpty();
    assertThat(fs.exists(deep)).isFalse();
    assertThat(fs.exists(empty)).isFalse();
    fs.delete(new Path(base, "a"), true);
    assertThat(bulk.bulkDelete(Collections.singletonList(base))).isEmpty();
    assertThat(fs.exists(base)).isFalse();
  }
}
