package io.sluice.hadoop.mapred;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.examples.WordCount;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.IntWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.FileSystemCounter;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Hadoop's own WordCount (mapper, combiner and reducer from hadoop-mapreduce-examples) run by the
 * LocalJobRunner with its input and output on sluice:// (the default file system), through both
 * FileOutputCommitter algorithms (v1 renames task output twice, v2 once, straight into place).
 */
public class TestSluiceWordCount {
  private static final String[] WORDS = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
  };

  private static Configuration base;
  private static FileSystem fs;

  @Rule public TemporaryFolder local = new TemporaryFolder();

  private Path dir;
  private Map<String, Integer> expected;

  @BeforeClass
  public static void setUpClass() throws IOException {
    base = SluiceTestVolume.configureAsDefault(new Configuration());
    fs = FileSystem.newInstance(base); // closed here; the job uses the cache
  }

  @AfterClass
  public static void tearDownClass() throws IOException {
    SluiceTestVolume.removeAndClose(fs, null);
  }

  @Before
  public void setUp() throws IOException {
    dir = fs.makeQualified(new Path("/wordcount-" + System.nanoTime()));
    expected = new TreeMap<>();
    // three input files (three map tasks); word i of WORDS occurs a different number of times in
    // each, and every line ends differently so the tokenizer sees real text
    for (int file = 0; file < 3; file++) {
      StringBuilder sb = new StringBuilder();
      for (int line = 0; line < 2000; line++) {
        for (int w = 0; w <= (line + file) % WORDS.length; w++) {
          String word = WORDS[(w * 7 + file) % WORDS.length];
          sb.append(word).append(w % 3 == 0 ? '\t' : ' ');
          expected.merge(word, 1, Integer::sum);
        }
        sb.append('\n');
      }
      try (FSDataOutputStream out = fs.create(new Path(dir, "in/part-" + file + ".txt"))) {
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  @After
  public void tearDown() throws IOException {
    fs.delete(dir, true);
  }

  private Job job(int committerVersion, Path out) throws IOException {
    Configuration conf = new Configuration(base);
    conf.set("mapreduce.framework.name", "local");
    conf.setInt(FileOutputCommitter.FILEOUTPUTCOMMITTER_ALGORITHM_VERSION, committerVersion);
    // spill files and the job's staging directory stay on the local disk (the LocalJobRunner
    // always stages through the local file system); input and output are on sluice://
    conf.set("mapreduce.cluster.local.dir", local.getRoot() + "/local");
    conf.set("mapreduce.jobtracker.staging.root.dir", local.getRoot() + "/staging");
    conf.setInt("mapreduce.local.map.tasks.maximum", 2);
    conf.setInt("mapreduce.local.reduce.tasks.maximum", 2);
    Job job = Job.getInstance(conf, "sluice wordcount v" + committerVersion);
    job.setJarByClass(WordCount.class);
    job.setMapperClass(WordCount.TokenizerMapper.class);
    job.setCombinerClass(WordCount.IntSumReducer.class);
    job.setReducerClass(WordCount.IntSumReducer.class);
    job.setOutputKeyClass(Text.class);
    job.setOutputValueClass(IntWritable.class);
    job.setNumReduceTasks(3);
    FileInputFormat.addInputPath(job, new Path(dir, "in"));
    FileOutputFormat.setOutputPath(job, out);
    return job;
  }

  private void runAndCheck(int committerVersion) throws Exception {
    Path out = new Path(dir, "out-v" + committerVersion);
    Job job = job(committerVersion, out);
    assertThat(job.waitForCompletion(true)).as("job succeeded").isTrue();

    Map<String, Integer> counts = new TreeMap<>();
    List<String> names = new ArrayList<>();
    for (FileStatus st : fs.listStatus(out)) {
      String name = st.getPath().getName();
      names.add(name);
      if (!name.startsWith("part-r-")) {
        continue;
      }
      try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(st.getPath()),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          String[] kv = line.split("\t");
          assertThat(kv).as("line %s of %s", line, name).hasSize(2);
          assertThat(counts.put(kv[0], Integer.parseInt(kv[1])))
              .as("%s appears in one part file only", kv[0]).isNull();
        }
      }
    }
    assertThat(counts).isEqualTo(expected);
    assertThat(names).containsExactlyInAnyOrder("_SUCCESS", "part-r-00000", "part-r-00001",
        "part-r-00002");
    assertThat(fs.getFileStatus(new Path(out, "_SUCCESS")).getLen()).isZero();
    assertThat(fs.exists(new Path(out, "_temporary"))).isFalse();

    // the job's FileSystem counters for the sluice scheme saw the real traffic
    long inputBytes = fs.getContentSummary(new Path(dir, "in")).getLength();
    long outputBytes = fs.getContentSummary(out).getLength();
    long read = job.getCounters().findCounter("sluice", FileSystemCounter.BYTES_READ).getValue();
    long written =
        job.getCounters().findCounter("sluice", FileSystemCounter.BYTES_WRITTEN).getValue();
    assertThat(read).isGreaterThanOrEqualTo(inputBytes);
    assertThat(written).isGreaterThanOrEqualTo(outputBytes);
    assertThat(job.getCounters().findCounter(
        "org.apache.hadoop.mapreduce.TaskCounter", "MAP_INPUT_RECORDS").getValue())
        .isEqualTo(3 * 2000);
  }

  @Test
  public void wordCountWithCommitterV1() throws Exception {
    runAndCheck(1);
  }

  @Test
  public void wordCountWithCommitterV2() throws Exception {
    runAndCheck(2);
  }
}
