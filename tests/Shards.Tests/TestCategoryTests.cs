using System.Reflection;

namespace Shards.Tests;

/// <summary>
/// Every test class says what it needs (<see cref="TestCategories"/>), so that <c>tests/run --fast</c> never picks up a
/// test that starts PostgreSQL, a cluster or a process, and no test falls out of every category.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class TestCategoryTests
{
    [Fact]
    public void Every_test_class_has_exactly_one_known_category()
    {
        var problems = new List<string>();
        foreach (var type in TestClasses())
        {
            var categories = CategoriesOf(type.GetCustomAttributesData()).ToList();
            if (categories.Count != 1)
            {
                problems.Add($"{type.FullName}: {categories.Count} Category traits ({string.Join(", ", categories)})");
            }
            else if (!TestCategories.All.Contains(categories[0]))
            {
                problems.Add($"{type.FullName}: unknown category '{categories[0]}'");
            }

            foreach (var method in TestMethods(type).Where(m => CategoriesOf(m.GetCustomAttributesData()).Any()))
            {
                problems.Add($"{type.FullName}.{method.Name}: a Category trait on a method (put it on the class, or split the class)");
            }
        }

        Assert.True(problems.Count == 0, "Give each test class one [Trait(TestCategories.Name, TestCategories.Unit | Integration | Process)]:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void The_check_sees_the_test_classes_of_every_category()
    {
        var byCategory = TestClasses().ToLookup(t => CategoriesOf(t.GetCustomAttributesData()).FirstOrDefault());

        Assert.Contains(typeof(TestCategoryTests), byCategory[TestCategories.Unit]);
        Assert.All(TestCategories.All, category => Assert.NotEmpty(byCategory[category]));
    }

    /// <summary>The classes xUnit runs tests of: public, not abstract, with a [Fact] or [Theory] method.</summary>
    private static IEnumerable<Type> TestClasses() =>
        typeof(TestCategoryTests).Assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic) && TestMethods(t).Any());

    private static IEnumerable<MethodInfo> TestMethods(Type type) =>
        type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(m => m.IsDefined(typeof(FactAttribute), inherit: true));

    private static IEnumerable<string> CategoriesOf(IEnumerable<CustomAttributeData> attributes) =>
        attributes
            .Where(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2 && (string?)a.ConstructorArguments[0].Value == TestCategories.Name)
            .Select(a => (string?)a.ConstructorArguments[1].Value ?? string.Empty);
}
