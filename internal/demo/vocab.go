package demo

// The vocabulary the generator draws names from. Every list is a slice, never
// a map, so that iteration order (and so the generated data) is fixed.

// zhPinyin is a Chinese word with its pinyin spelling.
type zhPinyin struct{ zh, py string }

var surnames = []zhPinyin{
	{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"},
	{"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"}, {"孙", "sun"},
	{"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"高", "gao"},
	{"林", "lin"}, {"罗", "luo"}, {"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"}, {"宋", "song"},
	{"唐", "tang"}, {"许", "xu"}, {"韩", "han"}, {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"},
	{"彭", "peng"}, {"曾", "zeng"}, {"肖", "xiao"}, {"田", "tian"}, {"董", "dong"}, {"袁", "yuan"},
	{"潘", "pan"}, {"于", "yu"}, {"蒋", "jiang"}, {"蔡", "cai"}, {"余", "yu"}, {"杜", "du"},
	{"叶", "ye"}, {"程", "cheng"}, {"苏", "su"}, {"魏", "wei"}, {"吕", "lv"}, {"丁", "ding"},
	{"任", "ren"}, {"沈", "shen"}, {"姚", "yao"}, {"卢", "lu"}, {"姜", "jiang"}, {"崔", "cui"},
	{"钟", "zhong"}, {"谭", "tan"}, {"陆", "lu"}, {"汪", "wang"}, {"范", "fan"}, {"金", "jin"},
}

var givenNames = []zhPinyin{
	{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"}, {"丽", "li"},
	{"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"}, {"勇", "yong"}, {"艳", "yan"},
	{"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"秀英", "xiuying"},
	{"霞", "xia"}, {"平", "ping"}, {"刚", "gang"}, {"浩", "hao"}, {"宇", "yu"}, {"欣怡", "xinyi"},
	{"子涵", "zihan"}, {"思远", "siyuan"}, {"晨", "chen"}, {"婷", "ting"}, {"鹏", "peng"}, {"辉", "hui"},
	{"琳", "lin"}, {"雪", "xue"}, {"斌", "bin"}, {"倩", "qian"}, {"俊", "jun"}, {"博文", "bowen"},
	{"佳", "jia"}, {"悦", "yue"}, {"凯", "kai"}, {"嘉怡", "jiayi"}, {"文", "wen"}, {"华", "hua"},
	{"建国", "jianguo"}, {"晓东", "xiaodong"}, {"海燕", "haiyan"}, {"志强", "zhiqiang"}, {"丹", "dan"},
	{"颖", "ying"}, {"慧", "hui"}, {"鑫", "xin"}, {"昊", "hao"}, {"睿", "rui"}, {"一鸣", "yiming"},
	{"梓轩", "zixuan"}, {"诗琪", "shiqi"}, {"雨桐", "yutong"}, {"晓燕", "xiaoyan"}, {"立新", "lixin"},
	{"国强", "guoqiang"}, {"春梅", "chunmei"}, {"海波", "haibo"}, {"思彤", "sitong"}, {"泽宇", "zeyu"},
}

var brandSyllables = []zhPinyin{
	{"华", "hua"}, {"瑞", "rui"}, {"博", "bo"}, {"远", "yuan"}, {"恒", "heng"}, {"泰", "tai"},
	{"新", "xin"}, {"联", "lian"}, {"海", "hai"}, {"天", "tian"}, {"中", "zhong"}, {"安", "an"},
	{"达", "da"}, {"盛", "sheng"}, {"宏", "hong"}, {"信", "xin"}, {"创", "chuang"}, {"汇", "hui"},
	{"智", "zhi"}, {"航", "hang"}, {"明", "ming"}, {"嘉", "jia"}, {"科", "ke"}, {"德", "de"},
	{"康", "kang"}, {"益", "yi"}, {"源", "yuan"}, {"鼎", "ding"}, {"卓", "zhuo"}, {"星", "xing"},
	{"润", "run"}, {"和", "he"}, {"辰", "chen"}, {"奥", "ao"}, {"金", "jin"}, {"万", "wan"},
	{"永", "yong"}, {"融", "rong"}, {"峰", "feng"}, {"蓝", "lan"}, {"优", "you"}, {"众", "zhong"},
	{"力", "li"}, {"兴", "xing"}, {"凯", "kai"}, {"通", "tong"}, {"光", "guang"}, {"佳", "jia"},
	{"睿", "rui"}, {"诺", "nuo"}, {"弘", "hong"}, {"曜", "yao"}, {"驰", "chi"}, {"拓", "tuo"},
}

// industry is an account industry: a stable key (what accounts.industry
// holds), its labels, the words company names use, and how well it fits the
// vendor's ideal customer profile.
type industry struct {
	key, zh, en string
	words       []zhPinyinEN
	weight      float64
	fit         float64
}

type zhPinyinEN struct{ zh, en, abbr string }

var industries = []industry{
	{"retail", "零售", "Retail", []zhPinyinEN{{"零售", "Retail", "retail"}, {"商贸", "Trading", "trade"}, {"百货", "Department Store", "mall"}}, 12, 0.35},
	{"fmcg", "快消", "FMCG", []zhPinyinEN{{"食品", "Foods", "food"}, {"日化", "Consumer Products", "cp"}, {"饮品", "Beverages", "drinks"}}, 9, 0.35},
	{"manufacturing", "制造", "Manufacturing", []zhPinyinEN{{"精密机械", "Precision Machinery", "pm"}, {"电子", "Electronics", "elec"}, {"智能装备", "Intelligent Equipment", "ie"}, {"新材料", "New Materials", "nm"}}, 18, 0.1},
	{"automotive", "汽车", "Automotive", []zhPinyinEN{{"汽车", "Automotive", "auto"}, {"汽车零部件", "Auto Parts", "parts"}}, 6, 0.3},
	{"financial_services", "金融", "Financial Services", []zhPinyinEN{{"保险", "Insurance", "ins"}, {"证券", "Securities", "sec"}, {"金融科技", "Fintech", "fintech"}}, 7, 0.25},
	{"healthcare", "医疗健康", "Healthcare", []zhPinyinEN{{"医疗器械", "Medical Devices", "med"}, {"生物科技", "Biotech", "bio"}, {"医药", "Pharmaceutical", "pharma"}}, 8, 0.15},
	{"education", "教育", "Education", []zhPinyinEN{{"教育科技", "EdTech", "edu"}, {"教育", "Education", "edu"}}, 5, -0.1},
	{"software", "企业服务", "Enterprise Software", []zhPinyinEN{{"软件", "Software", "soft"}, {"信息技术", "Information Technology", "it"}, {"网络科技", "Network Technology", "net"}}, 14, 0.1},
	{"logistics", "物流", "Logistics", []zhPinyinEN{{"物流", "Logistics", "logistics"}, {"供应链", "Supply Chain", "scm"}}, 5, -0.05},
	{"real_estate", "房地产", "Real Estate", []zhPinyinEN{{"置业", "Properties", "prop"}, {"地产", "Real Estate", "re"}}, 4, -0.1},
	{"internet", "互联网", "Internet", []zhPinyinEN{{"互联网科技", "Internet Technology", "tech"}, {"数字科技", "Digital Technology", "digital"}}, 8, 0.2},
	{"energy", "能源化工", "Energy & Chemicals", []zhPinyinEN{{"化工", "Chemicals", "chem"}, {"新能源", "New Energy", "energy"}}, 4, -0.15},
}

var companySuffixes = []zhPinyinEN{
	{"有限公司", "Co., Ltd.", ""}, {"股份有限公司", "Corp.", ""}, {"集团", "Group", ""}, {"科技有限公司", "Technology Co., Ltd.", ""},
}

// city is a city with its sales region (the keys users.territory uses).
type city struct {
	zh, en, region string
	weight         float64
}

var cities = []city{
	{"上海", "Shanghai", "east", 16}, {"杭州", "Hangzhou", "east", 8}, {"南京", "Nanjing", "east", 5},
	{"苏州", "Suzhou", "east", 5}, {"宁波", "Ningbo", "east", 3}, {"合肥", "Hefei", "east", 2},
	{"北京", "Beijing", "north", 15}, {"天津", "Tianjin", "north", 3}, {"济南", "Jinan", "north", 2},
	{"青岛", "Qingdao", "north", 3}, {"沈阳", "Shenyang", "north", 2}, {"大连", "Dalian", "north", 1.5},
	{"深圳", "Shenzhen", "south", 10}, {"广州", "Guangzhou", "south", 7}, {"东莞", "Dongguan", "south", 2},
	{"佛山", "Foshan", "south", 2}, {"厦门", "Xiamen", "south", 2}, {"福州", "Fuzhou", "south", 1.5},
	{"成都", "Chengdu", "west", 4}, {"重庆", "Chongqing", "west", 3}, {"西安", "Xi'an", "west", 2},
	{"昆明", "Kunming", "west", 1}, {"武汉", "Wuhan", "central", 4}, {"长沙", "Changsha", "central", 3},
	{"郑州", "Zhengzhou", "central", 2}, {"南昌", "Nanchang", "central", 1},
}

// sizeBand is a company size band with an employee range and a typical deal.
type sizeBand struct {
	band           string
	minEmp, maxEmp int
	weight         float64
	fit            float64
	dealMin        int64 // yuan
	dealMax        int64
}

var sizeBands = []sizeBand{
	{"1-49", 8, 49, 14, -0.5, 20_000, 60_000},
	{"50-99", 50, 99, 18, -0.2, 30_000, 100_000},
	{"100-499", 100, 499, 32, 0.1, 60_000, 250_000},
	{"500-999", 500, 999, 16, 0.25, 120_000, 500_000},
	{"1000-4999", 1000, 4999, 14, 0.35, 250_000, 1_200_000},
	{"5000+", 5000, 60000, 6, 0.4, 500_000, 2_500_000},
}

// jobTitle is a contact's title with the role they usually play on a deal.
type jobTitle struct {
	zh     string
	role   string
	weight float64
	senior bool
}

var jobTitles = []jobTitle{
	{"市场总监", "decision_maker", 8, true}, {"CMO", "decision_maker", 2, true}, {"总经理", "decision_maker", 2, true},
	{"CIO", "decision_maker", 2, true}, {"数字化转型负责人", "decision_maker", 3, true}, {"IT总监", "influencer", 4, true},
	{"市场经理", "champion", 12, false}, {"数字营销经理", "champion", 10, false}, {"增长负责人", "champion", 5, false},
	{"会员运营主管", "champion", 5, false}, {"电商总监", "influencer", 4, true}, {"品牌经理", "influencer", 6, false},
	{"销售运营经理", "influencer", 5, false}, {"数据分析师", "user", 8, false}, {"市场专员", "user", 12, false},
	{"运营专员", "user", 8, false}, {"采购经理", "influencer", 3, false}, {"信息化专员", "user", 4, false},
}

var personalMailDomains = []string{"qq.com", "163.com", "126.com", "foxmail.com"}

var organicSearchEngines = []struct{ source, referrer string }{
	{"baidu", "https://www.baidu.com/"}, {"baidu", "https://m.baidu.com/"}, {"bing", "https://cn.bing.com/"},
	{"so360", "https://www.so.com/"}, {"sogou", "https://www.sogou.com/"}, {"google", "https://www.google.com/"},
}

var sitePages = []string{"/", "/product/cdp", "/product/marketing-automation", "/product/scrm", "/solutions/retail",
	"/solutions/manufacturing", "/cases", "/blog/b2b-attribution", "/blog/oneid", "/blog/lead-scoring", "/about"}

var highIntentPages = []string{"/pricing", "/cases", "/demo", "/product/cdp/deployment", "/security"}
